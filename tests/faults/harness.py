"""Helpers of the fault suite: the CLI in its own process (so it can be killed), specs, polling
the engine for a replacement's progress, and memory of a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def env_for(**extra: str) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    env.update(extra)
    return env


def start(*args: str, env: Mapping[str, str] | None = None, output: Any = None):
    """The CLI in its own process; `output`: a file for stdout and stderr (else pipes)."""
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=ROOT,
        env=dict(env or env_for()),
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT if output else subprocess.PIPE,
        text=True,
    )


def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 180):
    proc = start(*args, env=env)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def kill9(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def poll(predicate: Callable[[], Any], deadline_s: float = 60.0, interval: float = 0.02) -> Any:
    """Poll until predicate() is truthy; its value, or None at the deadline."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
