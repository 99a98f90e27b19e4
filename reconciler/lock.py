"""A per-project lock so two applies (or an apply and a watch pass) never interleave.

Used by reconcile.py around every mutating pass. An advisory `flock` on a file under
$XDG_RUNTIME_DIR (or the temp dir); the holder's pid is written into it for the message.
The kernel releases the lock when its holder dies, so a killed apply never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import LockHeld


def lock_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / "reconciler-locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def project_lock(project: str) -> Iterator[None]:
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
