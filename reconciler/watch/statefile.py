"""The state file a running watch keeps (`<lock dir>/<project>.watch.json`, written by
loop.Watcher after every pass) and its readers for `reconciler status` (commands/status.py):
`read_state`, `annotate_rows`, `state_lines`."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

STATE_SUFFIX = ".watch.json"


def state_path(project: str) -> Path:
    from reconciler.lock import lock_dir

    return lock_dir() / f"{project}{STATE_SUFFIX}"


def read_state(project: str) -> dict[str, Any] | None:
    """The running watch's state for `project`, or None (no watch, or its process is gone)."""
    path = state_path(project)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = data.get("pid") if isinstance(data, dict) else None
    if not isinstance(pid, int) or not _pid_alive(pid):
        return None
    return data


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def annotate_rows(table: list[dict[str, Any]], state: Mapping[str, Any] | None) -> None:
    """Add the watch's crash-loop backoff to `status` rows (`backoff` key; and to `pending`)."""
    backoff = (state or {}).get("backoff") or {}
    now = time.time()
    for row in table:
        entry = backoff.get(row.get("container"))
        row["backoff"] = entry
        if entry and entry.get("next_start") and row.get("pending"):
            wait = max(0.0, entry["next_start"] - now)
            row["pending"] += f"; crash-loop backoff: next start in {wait:.0f} s"


def state_lines(state: Mapping[str, Any] | None) -> list[str]:
    """What `status` prints about a running watch of the project."""
    if not state:
        return []
    now = time.time()
    lines = [f"Watched by pid {state.get('pid')} ({state.get('passes', 0)} passes)."]
    last = state.get("last_pass")
    if last:
        ago = max(0.0, now - (last.get("ended") or now))
        result = (
            f"failed: {last['error']}"
            if last.get("error")
            else f"{last.get('failed')} change(s) failed"
            if last.get("failed")
            else f"{last.get('changes', 0)} change(s)"
        )
        lines.append(f"  last pass {ago:.0f} s ago [{last.get('trigger')}]: {result}")
    if state.get("retry_at"):
        lines.append(f"  retrying the pass in {max(0.0, state['retry_at'] - now):.0f} s")
    if state.get("spec_error"):
        lines.append(f"  the spec on disk is not in force: {state['spec_error']}")
    for name, entry in sorted((state.get("backoff") or {}).items()):
        when = entry.get("next_start")
        wait = f"next start in {max(0.0, when - now):.0f} s" if when else "restarted, on probation"
        lines.append(
            f"  crash-loop backoff: {name} ({entry.get('address')}): "
            f"{entry.get('quick_exits')} quick exit(s), delay {entry.get('delay'):g} s, {wait}"
        )
    return lines
