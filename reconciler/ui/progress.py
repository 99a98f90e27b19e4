"""Progress display for long work (pulls, builds, commits) during apply, in text mode.

Fed by the executor's `progress` events ({"event": "progress", "address", "detail"}, where
`detail` is a raw engine stream event: pull status per layer, or a build's `stream` text).

- On a terminal (stderr is a TTY): a live display with one bar per pulled layer (bytes) and
  one per build or commit (step N/M and the current instruction); with -v the full build log
  is printed above it as well. `finish(address)` drops an address's bars once its change is
  done; `stop_progress()` ends the display.
- Elsewhere: with -v, the log lines (build output, pull state changes but not every
  byte-count update) prefixed with the address; nothing without -v (the begin/done lines
  already say what happens).

A display problem never fails an apply: errors here are swallowed.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

_lock = threading.Lock()
_state: dict[str, Any] = {}
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BYTE_UPDATES = ("Downloading", "Extracting", "Waiting", "Verifying Checksum")
_LAYER_DONE = ("Pull complete", "Already exists", "Download complete")


def show_progress(event: dict[str, Any], verbose: bool = False) -> None:
    detail = event.get("detail") or {}
    address = str(event.get("address", ""))
    try:
        if not sys.stderr.isatty():
            if verbose:
                for line in log_lines(detail):
                    print(f"    {address}: {line}", file=sys.stderr, flush=True)
            return
        with _lock:
            _update(address, detail, verbose)
    except Exception:  # a display problem must never fail the apply
        return


def log_lines(detail: dict[str, Any]) -> list[str]:
    """The lines worth printing for one raw event (plain-text mode)."""
    if isinstance(detail.get("stream"), str):
        text = _ANSI.sub("", detail["stream"])
        return [line for line in text.rstrip("\n").split("\n") if line.strip()]
    status = detail.get("status")
    if not isinstance(status, str) or status in _BYTE_UPDATES:
        return []
    layer = detail.get("id")
    return [f"{layer}: {status}" if layer else status]


def _progress():
    progress = _state.get("progress")
    if progress is None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(stderr=True),
            transient=True,
        )
        progress.start()
        _state["progress"] = progress
        _state["tasks"] = {}
    return progress


def _task(address: str, sub: str, description: str, total: float | None = None) -> Any:
    progress = _progress()
    tasks: dict[tuple[str, str], Any] = _state["tasks"]
    key = (address, sub)
    if key not in tasks:
        tasks[key] = progress.add_task(description, total=total, info="")
    return tasks[key]


def _update(address: str, detail: dict[str, Any], verbose: bool) -> None:
    progress = _progress()
    text = detail.get("stream")
    if isinstance(text, str):  # a build or commit
        task = _task(address, "", f"{address}: starting")
        for line in _ANSI.sub("", text).rstrip("\n").split("\n"):
            match = _STEP.match(line)
            if match:
                number, total, instruction = match.groups()
                progress.update(
                    task,
                    total=int(total),
                    completed=int(number) - 1,
                    description=f"{address}: {_cut(instruction, 50)}",
                    info=f"step {number}/{total}",
                )
            if verbose and line.strip():
                progress.console.print(f"    {address}: {line}", markup=False, highlight=False)
        return
    status = detail.get("status")
    if not isinstance(status, str):
        return
    layer = detail.get("id")
    pd = detail.get("progressDetail") or {}
    if not layer or status.startswith(("Pulling from", "Digest:", "Status:")):
        task = _task(address, "", f"{address}: {status}")
        progress.update(task, description=f"{address}: {_cut(status, 60)}")
        return
    task = _task(address, layer, f"{address} {layer}")
    current, total = pd.get("current"), pd.get("total")
    if status in _LAYER_DONE:
        done = progress.tasks[_index(progress, task)].total or 1
        progress.update(task, total=done, completed=done, info=status.lower())
        progress.update(task, description=f"{address} {layer}: {status}")
        return
    fields: dict[str, Any] = {"description": f"{address} {layer}: {status}"}
    if isinstance(total, int) and total > 0:
        fields.update(total=total, completed=current or 0, info=_bytes(current or 0, total))
    progress.update(task, **fields)


def _index(progress: Any, task_id: Any) -> int:
    for i, task in enumerate(progress.tasks):
        if task.id == task_id:
            return i
    return 0


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bytes(current: int, total: int) -> str:
    return f"{size_text(current)}/{size_text(total)}"


def size_text(n: float) -> str:
    """A byte count for people: `512 B`, `3.1 MB` (also ui/heartbeat.py's lines)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def finish(address: str) -> None:
    """Drop the bars of one address (its change is done, failed or skipped)."""
    try:
        with _lock:
            progress = _state.get("progress")
            if progress is None:
                return
            tasks: dict[tuple[str, str], Any] = _state["tasks"]
            for key in [k for k in tasks if k[0] == address]:
                progress.remove_task(tasks.pop(key))
    except Exception:
        return


def stop_progress() -> None:
    with _lock:
        progress = _state.pop("progress", None)
        _state.pop("tasks", None)
    if progress is not None:
        try:
            progress.stop()
        except Exception:
            return
