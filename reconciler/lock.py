"""The per-project lock, so two applies (or an apply and a watch pass) never interleave.

Used by reconcile.py around every mutating pass. Two layers:

- an engine-side lease (issue 16): a stopped container named `reconciler-lock-<project>`,
  created atomically on the engine (engine/lease.py), so the lock holds for every process
  that talks to the same engine, whatever its environment (XDG_RUNTIME_DIR, TMPDIR, HOME) or
  host. Its labels record the holder's host, pid, the pid's start time and an expiry. A lease
  is stale, and taken over, when its holder is a dead process on this host, or when it has
  expired (LEASE_TTL; a holder on another host cannot be checked otherwise), or when it is
  this very process's, left by an earlier pass that could not remove it (the engine restarted
  under watch; the flock proves no other pass of ours holds it). Take-over removes
  the stale lease *by its id*, so two processes that both see it stale cannot remove each
  other's fresh lease: one creates the new one, the other finds it taken.
- an advisory `flock` on a file under $XDG_RUNTIME_DIR (or the temp dir), released by the
  kernel when its holder dies: it makes a second process in the same environment fail fast
  without an engine round trip (and holds when no engine lease is wanted: `engine=None`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from reconciler.errors import LockHeld, ReconcilerError

LEASE_TTL = 3600.0  # seconds; a lease older than this is stale even if its holder looks alive
LABEL_LOCK = "io.reconciler.lock"  # the project; never the ownership label (not a container
LABEL_HOST = "io.reconciler.lock.host"  # of the project: observe, plan and destroy skip it)
LABEL_PID = "io.reconciler.lock.pid"
LABEL_PID_START = "io.reconciler.lock.pid-start"
LABEL_SINCE = "io.reconciler.lock.since"
LABEL_EXPIRES = "io.reconciler.lock.expires"


class LeaseEngine(Protocol):
    """The engine operations the lock needs (engine/lease.py implements them)."""

    def acquire_lease(self, name: str, labels: Mapping[str, str]) -> str | None: ...

    def lease_holder(self, name: str) -> dict[str, Any] | None: ...

    def release_lease(self, lease_id: str) -> bool: ...


def lock_dir() -> Path:
    import tempfile  # stdlib, but not on the read path (random, bisect): only to take a lock

    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / "reconciler-locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def lease_name(project: str) -> str:
    return f"reconciler-lock-{project}"


@contextmanager
def project_lock(project: str, engine: LeaseEngine | None = None) -> Iterator[None]:
    """Hold the project's lock: the local flock, then (with `engine`) the engine lease."""
    with _local_lock(project):
        if engine is None:
            yield
            return
        lease = acquire(engine, project)
        try:
            yield
        finally:
            # best effort: a lease this process cannot remove (the engine went away) is stale
            # for its next pass, for a later process on this host once this one is gone, and
            # for everyone once it expires; the pass's own outcome is what gets reported
            with contextlib.suppress(ReconcilerError):
                engine.release_lease(lease)


def acquire(engine: LeaseEngine, project: str, now: float | None = None) -> str:
    """Take the engine lease (taking over a stale one); its id. LockHeld when it is held."""
    name = lease_name(project)
    for _ in range(3):
        now = time.time() if now is None else now
        lease = engine.acquire_lease(name, _labels(project, now))
        if lease is not None:
            return lease
        holder = engine.lease_holder(name)
        if holder is None:
            continue  # released meanwhile: try again
        why = stale(holder["labels"], now)
        if why is None:
            raise LockHeld(
                f"project {project} is locked by another reconciler ({describe(holder['labels'])})"
                "; wait for it to finish or stop it, then try again"
            )
        engine.release_lease(holder["id"])  # by id: never a lease someone just made
    raise LockHeld(f"project {project}: could not take its lock (it changed hands repeatedly)")


def stale(labels: Mapping[str, str], now: float) -> str | None:
    """Why a lease is stale (its holder died, or it expired), or None when it holds."""
    try:
        expires = float(labels.get(LABEL_EXPIRES) or 0)
        pid = int(labels.get(LABEL_PID) or 0)
    except ValueError:
        return "unreadable lease"
    if now > expires:
        return "expired"
    here = labels.get(LABEL_HOST) == socket.gethostname() and pid > 0
    if here and _pid_start(pid) != labels.get(LABEL_PID_START):
        return f"holder pid {pid} is gone"
    if here and pid == os.getpid():  # under our flock: an earlier pass could not release it
        return "left by an earlier pass of this process"
    return None


def describe(labels: Mapping[str, str]) -> str:
    since = labels.get(LABEL_SINCE) or "?"
    with_time = time.strftime("%H:%M:%S", time.localtime(float(since))) if _num(since) else since
    host = labels.get(LABEL_HOST) or "?"
    return f"pid {labels.get(LABEL_PID) or '?'} on {host}, since {with_time}"


def _num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _labels(project: str, now: float) -> dict[str, str]:
    pid = os.getpid()
    return {
        LABEL_LOCK: project,
        LABEL_HOST: socket.gethostname(),
        LABEL_PID: str(pid),
        LABEL_PID_START: _pid_start(pid) or "",
        LABEL_SINCE: f"{now:.3f}",
        LABEL_EXPIRES: f"{now + LEASE_TTL:.3f}",
    }


def _pid_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), so a
    reused pid is not taken for the holder; None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


@contextmanager
def _local_lock(project: str) -> Iterator[None]:
    path = lock_dir() / f"{project}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise LockHeld(
                f"project {project} is locked by another reconciler (pid {holder}); "
                "wait for it to finish or stop it, then try again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
