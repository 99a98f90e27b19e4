"""The state file a running watch keeps (`<lock dir>/<project>.watch.json`): its writer
(`state_record` + `write_state`, called by loop.Watcher after every pass) and its readers for
`reconciler status` (commands/status.py): `read_state`, `annotate_rows`, `state_lines`."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.lock import lock_dir
from reconciler.watch.log import WatchLog
from reconciler.watch.triggers import describe_triggers

if TYPE_CHECKING:  # types only: `status` reads the file without the loop's modules
    from reconciler.watch.crashloop import CrashRecord
    from reconciler.watch.report import PassReport

STATE_SUFFIX = ".watch.json"


def state_path(project: str) -> Path:
    return lock_dir() / f"{project}{STATE_SUFFIX}"


def state_record(
    project: str,
    spec: str,
    started: float,
    passes: int,
    spec_error: str | None,
    retry_at: float | None,
    last: PassReport | None,
    backoff: Mapping[str, CrashRecord],
    now_mono: float,
) -> dict[str, Any]:
    """The state file's content. `retry_at` and the records' start times are monotonic
    (`now_mono` is the loop clock's now); the file holds unix times."""
    now = time.time()
    return {
        "pid": os.getpid(),
        "project": project,
        "spec": spec,
        "started": started,
        "updated": now,
        "passes": passes,
        "spec_error": spec_error,
        "retry_at": (now + retry_at - now_mono) if retry_at else None,
        "last_pass": None
        if last is None
        else {
            "number": last.number,
            "trigger": describe_triggers(last.triggers),
            "changes": len(last.done),
            "failed": len(last.failed),
            "error": last.error,
            "seconds": round(last.seconds, 4),
            "ended": now,
        },
        "backoff": {
            name: {
                "address": rec.address,
                "quick_exits": rec.quick_exits,
                "delay": rec.delay,
                "exit_code": rec.exit_code,
                "next_start": (now + rec.next_start - now_mono)
                if rec.dead and rec.next_start > now_mono
                else None,
            }
            for name, rec in sorted(backoff.items())
        },
    }


def write_state(project: str, data: Mapping[str, Any], log: WatchLog) -> None:
    """Replace the state file atomically; a failure is only logged (debug)."""
    path = state_path(project)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("state", f"cannot write {path}: {exc}")


def remove_state(project: str) -> None:
    """The watch ends: its state file goes (a missing one is fine)."""
    with contextlib.suppress(OSError):
        state_path(project).unlink()


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
    passes = state.get("passes", 0)
    lines = [f"Watched by pid {state.get('pid')} ({passes} pass{'' if passes == 1 else 'es'})."]
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
