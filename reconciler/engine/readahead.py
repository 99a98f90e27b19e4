"""Read-ahead of a command's first observe, so the engine answers while Python starts up.

cli.py calls `start()` for the commands whose first engine read is an unlocked observe
(apply, plan, status) before it imports the command module: a thread sends the version ping
and observe's four list GETs while the main thread imports the command and loads the spec.
`EngineClient.connect()` takes the connection and the version with `take()`, and the client's
first `observe()` takes the four lists, once; every later read (the re-plan under the
project's lease, watch passes, destroy) asks the engine afresh.

Only on a unix socket (the raw read path); a TCP, TLS or SSH host is read when observe runs.
A read-ahead that fails or is not taken (an invalid spec, a command that stops early) costs
its GETs and nothing else: it changes nothing on the engine, and `connect()` then reads afresh
and reports any failure itself. `discard()` closes one that was not taken (cli.py, at exit).
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from reconciler.engine.endpoint import resolve
from reconciler.engine.rawhttp import UnixHTTP

# observe's four lists (engine/client.py sends the very same requests when there is no
# read-ahead); all containers and networks, unfiltered: foreign names and ports matter too.
OBSERVE_LISTS: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("/containers/json", {"limit": -1, "all": 1, "size": 0, "trunc_cmd": 0}),
    ("/images/json", {"only_ids": 0, "all": 0}),
    ("/networks", None),
    ("/volumes", None),
)


class Answers(NamedTuple):
    """What the read-ahead read: its open connection, the API version and the four lists."""

    raw: UnixHTTP
    version: str
    lists: tuple[Any, ...]


class ReadAhead:
    """One read-ahead in flight on one socket."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._raw = UnixHTTP(socket_path, timeout=timeout)
        self._answers: Answers | None = None
        self._state = threading.Lock()  # guards _abandoned against the thread's end
        self._abandoned = False
        self._thread = threading.Thread(target=self._read, name="read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            version = self._raw.api_version()
            lists = tuple(self._raw.get_json(f"/v{version}{p}", q) for p, q in OBSERVE_LISTS)
        except Exception:  # connect() reads afresh and reports the failure
            self._raw.close()
            return
        with self._state:
            if self._abandoned:
                self._raw.close()
            else:
                self._answers = Answers(self._raw, version, lists)

    def wait(self) -> Answers | None:
        """The answers, once the thread is done; None if it failed."""
        self._thread.join()
        return self._answers

    def abandon(self) -> None:
        """Not wanted: close the connection now, or when the thread ends (never waits)."""
        with self._state:
            self._abandoned = True
            answers, self._answers = self._answers, None
        if answers is not None:
            answers.raw.close()


_lock = threading.Lock()
_pending: ReadAhead | None = None


def start(timeout: float = 120) -> None:
    """Start reading ahead from the engine the docker CLI would use, if it is a unix socket.
    Never raises: an endpoint that cannot be resolved is reported by connect()."""
    global _pending
    try:
        path = resolve().unix_socket
    except Exception:
        return
    if path is None:
        return
    with _lock:
        if _pending is None:
            _pending = ReadAhead(path, timeout)


def take(socket_path: str, timeout: float) -> Answers | None:
    """The read-ahead's answers for this socket and timeout, once; None if there is none, it
    failed or it was for another socket."""
    global _pending
    with _lock:
        pending, _pending = _pending, None
    if pending is None:
        return None
    if (pending.socket_path, pending.timeout) != (socket_path, timeout):
        pending.abandon()
        return None
    return pending.wait()


def discard() -> None:
    """Close a read-ahead that was not taken."""
    global _pending
    with _lock:
        pending, _pending = _pending, None
    if pending is not None:
        pending.abandon()
