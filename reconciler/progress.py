"""Progress display for long work (pulls, builds) during apply, in text mode.

On a terminal: one rich progress bar per pulled layer / build; elsewhere: the raw log lines
with -v, nothing otherwise (the begin/done lines already say what happens).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_lock = threading.Lock()
_state: dict[str, Any] = {}


def show_progress(event: dict[str, Any], verbose: bool = False) -> None:
    detail = event.get("detail") or {}
    if not sys.stderr.isatty():
        if verbose:
            text = detail.get("stream") or detail.get("status") or ""
            text = text.rstrip()
            if text:
                print(f"    {event['address']}: {text}", file=sys.stderr, flush=True)
        return
    with _lock:
        _update_bar(event["address"], detail)


def _update_bar(address: str, detail: dict[str, Any]) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    progress = _state.get("progress")
    if progress is None:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            transient=True,
        )
        progress.start()
        _state["progress"] = progress
        _state["tasks"] = {}
    tasks: dict[str, Any] = _state["tasks"]
    layer = detail.get("id") or "build"
    key = f"{address}/{layer}"
    pd = detail.get("progressDetail") or {}
    if "stream" in detail:
        description = f"{address}: {detail['stream'].strip()[:60]}"
        if key not in tasks:
            tasks[key] = progress.add_task(description, total=None)
        progress.update(tasks[key], description=description)
        return
    if key not in tasks:
        tasks[key] = progress.add_task(f"{address} {layer}", total=pd.get("total"))
    progress.update(
        tasks[key],
        completed=pd.get("current", 0),
        total=pd.get("total"),
        description=f"{address} {layer}: {detail.get('status', '')}",
    )


def stop_progress() -> None:
    with _lock:
        progress = _state.pop("progress", None)
        _state.pop("tasks", None)
    if progress is not None:
        progress.stop()
