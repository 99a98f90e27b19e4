"""`reconciler watch` measured from outside, as a user runs it: `reconciler watch SPEC -p P`.

For a window of `minutes` (and at least `samples` of each), alternately:
- edit the spec (bump one container's env) and time until the new container has started and
  the old one is gone ("spec edit -> converged"), and until the engine saw watch's first
  action on it ("edit -> first action": watch's own reaction time, without the engine's work);
- `docker kill` one container (the API call the CLI makes) and time until a container for
  that key has started again ("kill -> running again").
Times come from the engine's own event timestamps (nanoseconds), against the wall clock taken
just before the edit or kill. Meanwhile the watch process's resident memory is sampled from
/proc/<pid>/status (VmRSS every 0.1 s, and VmHWM, the kernel's own peak, at the end).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import workload
from benchmarks.harness import (
    RECONCILER_PROJECT_LABEL,
    BenchError,
    Cleanup,
    reconciler_command,
    running_count,
    unique_project,
)

NAME_LABEL = "io.reconciler.name"
STEP_TIMEOUT_S = 60.0
GAP_S = 0.5  # between one measured step and the next, so each starts from a settled state


@dataclass
class WatchResult:
    available: bool
    reason: str = ""
    n: int = 0
    edit: list[float] = field(default_factory=list)
    edit_reaction: list[float] = field(default_factory=list)  # edit -> first engine action
    kill: list[float] = field(default_factory=list)
    timeouts: dict[str, int] = field(default_factory=dict)
    window_s: float = 0.0
    rss_start: int | None = None
    rss_end: int | None = None
    rss_max_sampled: int | None = None
    rss_hwm: int | None = None
    converge_s: float | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


def watch_available(env: dict[str, str]) -> tuple[bool, str]:
    """Whether this reconciler has a `watch` command (its --help exits 0)."""
    cmd = [*reconciler_command(), "watch", "--help"]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"watch not available ({exc})"
    if proc.returncode != 0:
        return False, "watch not available"
    return True, ""


def _read_status(pid: int) -> dict[str, int]:
    values = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


class _RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.every = pid, every
        self.max = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            rss = _read_status(self.pid).get("VmRSS")
            if rss is None:
                return
            self.max = max(self.max, rss)


class _Events(threading.Thread):
    """The project's container events, each with the engine's timestamp (ns)."""

    def __init__(self, api, project: str) -> None:
        super().__init__(name="events", daemon=True)
        self.queue: queue.Queue[dict] = queue.Queue()
        filters = {"type": "container", "label": f"{RECONCILER_PROJECT_LABEL}={project}"}
        self.stream = api.events(decode=True, filters=filters)

    def run(self) -> None:
        with contextlib.suppress(Exception):
            for event in self.stream:
                self.queue.put(event)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stream.close()

    def drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.queue.get_nowait()

    def wait_for(self, predicate, deadline: float) -> dict | None:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                event = self.queue.get(timeout=left)
            except queue.Empty:
                return None
            if predicate(event):
                return event


def _key_of(event: dict) -> str:
    return ((event.get("Actor") or {}).get("Attributes") or {}).get(NAME_LABEL, "")


def _ids_of(api, project: str, key: str) -> list[str]:
    labels = [f"{RECONCILER_PROJECT_LABEL}={project}", f"{NAME_LABEL}={key}"]
    return [c["Id"] for c in api.containers(all=True, filters={"label": labels})]


def measure_watch(
    api,
    env: dict[str, str],
    workdir: Path,
    cleanup: Cleanup,
    n: int,
    image: str,
    init: bool,
    minutes: float,
    samples: int,
    progress=print,
) -> WatchResult:
    available, reason = watch_available(env)
    if not available:
        return WatchResult(False, reason, n)
    project = cleanup.add("reconciler", unique_project(n, "watch"))
    folder = workdir / project
    folder.mkdir()
    spec = folder / "spec.yaml"
    keys = workload.keys(n)
    revisions: dict[str, int] = {}
    spec.write_text(workload.reconciler_spec(project, n, image, revisions, init))
    log = (folder / "watch.log").open("wb")
    cmd = [*reconciler_command(), "watch", str(spec), "-p", project]
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, cwd=folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
    )
    result = WatchResult(True, "", n, timeouts={"edit": 0, "kill": 0})
    events: _Events | None = None
    sampler = _RssSampler(proc.pid)
    sampler.start()
    try:
        deadline = started + 300
        while running_count(api, RECONCILER_PROJECT_LABEL, project) < n:
            if proc.poll() is not None:
                raise BenchError(f"watch exited ({proc.returncode}):\n{_tail(folder)}")
            if time.monotonic() > deadline:
                raise BenchError(f"watch did not start {n} containers in 300 s:\n{_tail(folder)}")
            time.sleep(0.1)
        result.converge_s = time.monotonic() - started
        time.sleep(1.0)  # let the first pass finish before measuring from a settled state
        result.rss_start = _read_status(proc.pid).get("VmRSS")
        events = _Events(api, project)
        events.start()
        window_end = time.monotonic() + minutes * 60
        step = 0
        while time.monotonic() < window_end or min(len(result.edit), len(result.kill)) < samples:
            if proc.poll() is not None:
                raise BenchError(f"watch exited ({proc.returncode}):\n{_tail(folder)}")
            if step % 2 == 0:
                key = keys[0]
                revisions[key] = revisions.get(key, 0) + 1
                text = workload.reconciler_spec(project, n, image, revisions, init)
                timed = _edit_step(api, events, project, key, spec, text)
                seconds = None
                if timed is not None:
                    seconds, reaction = timed
                    result.edit_reaction.append(reaction)
                kind = "edit"
            else:
                key = keys[1 + (step // 2) % (len(keys) - 1)] if len(keys) > 1 else keys[0]
                seconds = _kill_step(api, events, project, key)
                kind = "kill"
            if seconds is None:
                result.timeouts[kind] += 1
                progress(f"  watch {kind}: no convergence in {STEP_TIMEOUT_S:.0f} s")
            else:
                getattr(result, kind).append(seconds)
            step += 1
            time.sleep(GAP_S)
        result.window_s = time.monotonic() - started
        status = _read_status(proc.pid)
        result.rss_end = status.get("VmRSS")
        result.rss_hwm = status.get("VmHWM")
        result.rss_max_sampled = sampler.max or None
    finally:
        sampler.stopped.set()
        if events is not None:
            events.close()
        _stop(proc)
        log.close()
    return result


def _edit_step(api, events: _Events, project: str, key: str, spec: Path, text: str):
    """Write the edited spec in place (as an editor saving it). Returns (seconds until the new
    container started and the old one was removed, seconds until the engine saw the first
    action on that container), or None on timeout."""
    old = set(_ids_of(api, project, key))
    events.drain()
    t0 = time.time_ns()
    with spec.open("w") as f:
        f.write(text)
    deadline = time.monotonic() + STEP_TIMEOUT_S
    first = started = destroyed = None
    while started is None or (old and destroyed is None):
        event = events.wait_for(
            lambda e: e.get("timeNano", 0) > t0 and (e.get("id") in old or _key_of(e) == key),
            deadline,
        )
        if event is None:
            return None
        first = first or event["timeNano"]
        if event.get("Action") == "start" and event.get("id") not in old:
            started = event["timeNano"]
        elif event.get("Action") == "destroy" and event.get("id") in old:
            destroyed = event["timeNano"]
    return (max(started, destroyed or 0) - t0) / 1e9, (first - t0) / 1e9


def _kill_step(api, events: _Events, project: str, key: str):
    """`docker kill` the key's container; a container for the key started -> seconds."""
    ids = _ids_of(api, project, key)
    if not ids:
        return None
    events.drain()
    t0 = time.time_ns()
    api.kill(ids[0])
    event = events.wait_for(
        lambda e: e.get("Action") == "start" and _key_of(e) == key and e["timeNano"] > t0,
        time.monotonic() + STEP_TIMEOUT_S,
    )
    return None if event is None else (event["timeNano"] - t0) / 1e9


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def _tail(folder: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        text = (folder / "watch.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])
    return ""
