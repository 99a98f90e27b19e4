"""Streams of the Docker adapter: engine events, log bytes, attached exec sessions, and the
classic builder's log follower.

`StreamOps` (logs, exec_attach, events) is composed into `engine.Engine` (adapter.py); callers
(ui/attach.py, watch/events.py) reach it through `EnginePort` (StreamsPort) and use the
returned objects through EventStreamPort / ByteStreamPort / ExecSessionPort. `BuildLog` is
used by images.ImageOps.build. Losing the engine while iterating raises EngineUnavailable,
like every other call.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any, Generic, Self, TypeVar

from reconciler.engine.client import EngineClient
from reconciler.engine.translate import event_time
from reconciler.errors import EngineError

T = TypeVar("T")

_BUILD_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # the builder paints a step's stderr red
_BUILD_NOISE = re.compile(
    r"^ ---> |^Removing intermediate container |^Successfully (built|tagged) "
)


class StreamOps(EngineClient):
    """Logs, interactive exec and engine events."""

    def logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        timestamps: bool = False,
    ) -> ByteStream:
        """A container's stdout and stderr as byte chunks (not split into lines). The stream
        has a `close()` that ends it (from another thread too)."""
        with self._translate(
            f"cannot read the logs of container {container_id}",
            not_found=lambda e: f"container {container_id} not found ({e})",
        ):
            stream = self._api.logs(
                container_id,
                stdout=True,
                stderr=True,
                stream=True,
                follow=follow,
                timestamps=timestamps,
                tail="all" if tail is None else max(0, int(tail)),
            )
        return ByteStream(self, stream, f"lost the logs of container {container_id}")

    def exec_attach(
        self,
        container_id: str,
        cmd: list[str],
        *,
        tty: bool = False,
        stdin: bool = False,
        user: str = "",
        workdir: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecSession:
        """Start a command in a running container and attach to it (`docker exec [-it]`).
        Not running -> Conflict; gone -> NotFound. Read output with `ExecSession.frames()`,
        then `exit_code()`."""
        action = f"cannot exec {' '.join(cmd)!r} in container {container_id}"
        with self._translate(action):
            created = self._api.exec_create(
                container_id,
                cmd,
                stdout=True,
                stderr=True,
                stdin=stdin,
                tty=tty,
                user=user,
                workdir=workdir,
                environment=dict(env) if env else None,
            )
            sock = self._api.exec_start(created["Id"], tty=tty, socket=True)
        # An interactive session may be silent for long: no read timeout on its socket.
        with contextlib.suppress(Exception):
            self._api._disable_socket_timeout(sock)
        return ExecSession(self, created["Id"], sock, tty)

    def events(
        self,
        filters: Mapping[str, Any] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> EventStream:
        """Decoded engine events (blocking iterator); used by watch and the tests.
        The iterator has a `close()` that ends it (from another thread too); losing the
        engine while iterating raises EngineUnavailable, like every other call."""
        with self._translate("cannot follow engine events"):
            stream = self._api.events(
                since=event_time(since),
                until=event_time(until),
                filters=dict(filters) if filters else None,
                decode=True,
            )
        return EventStream(self, stream)


class _Stream(Generic[T]):
    """The SDK's cancellable stream with engine errors translated: `close()` (from another
    thread too) breaks the read, which then ends the iteration normally."""

    def __init__(self, engine: EngineClient, stream: Any, action: str) -> None:
        self._engine = engine
        self._stream = stream
        self._action = action
        self._closed = False

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        try:
            with self._engine._translate(self._action):
                return next(self._stream)  # type: ignore[no-any-return]
        except StopIteration:
            raise
        except Exception:
            if self._closed:  # close() from another thread breaks the read: a normal end
                raise StopIteration from None
            raise

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self._stream.close()


class EventStream(_Stream[dict[str, Any]]):
    """Decoded engine events."""

    def __init__(self, engine: EngineClient, stream: Any) -> None:
        super().__init__(engine, stream, "lost the engine's event stream")


class ByteStream(_Stream[bytes]):
    """Byte chunks (logs)."""


class ExecSession:
    """An attached `exec`: output frames, stdin, resize and the exit code (engine.exec_attach)."""

    STDOUT = 1
    STDERR = 2

    def __init__(self, engine: EngineClient, exec_id: str, sock: Any, tty: bool) -> None:
        self._engine = engine
        self.exec_id = exec_id
        self.socket = sock
        self.tty = tty

    def fileno(self) -> int:
        return self.socket.fileno()

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(stream, data) until the command ends: stream 1 is stdout, 2 stderr (a TTY session
        has one stream, reported as stdout)."""
        from docker.utils.socket import frames_iter

        with self._engine._translate(f"lost exec {self.exec_id[:12]}"):
            for stream, data in frames_iter(self.socket, self.tty):
                if data:
                    yield (stream or self.STDOUT), data

    def read_some(self, n: int = 4096) -> bytes:
        """Raw bytes (TTY sessions): b'' at the end."""
        from docker.utils.socket import read

        with self._engine._translate(f"lost exec {self.exec_id[:12]}"):
            return read(self.socket, n) or b""

    def send(self, data: bytes) -> None:
        getattr(self.socket, "_sock", self.socket).sendall(data)

    def close_stdin(self) -> None:
        import socket as pysocket

        with contextlib.suppress(OSError):
            getattr(self.socket, "_sock", self.socket).shutdown(pysocket.SHUT_WR)

    def resize(self, height: int, width: int) -> None:
        with (
            contextlib.suppress(EngineError),
            self._engine._translate(f"cannot resize exec {self.exec_id[:12]}"),
        ):
            self._engine._api.exec_resize(self.exec_id, height=height, width=width)

    def exit_code(self) -> int:
        """The command's exit code (-1 when the engine does not know it)."""
        with self._engine._translate(f"cannot inspect exec {self.exec_id[:12]}"):
            code = self._engine._api.exec_inspect(self.exec_id).get("ExitCode")
        return code if code is not None else -1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.socket.close()


class BuildLog:
    """Follows a classic-builder stream: the current step and the last lines of its output,
    for the error message of a failing build."""

    TAIL = 10

    def __init__(self) -> None:
        self.step: str | None = None  # "3/5 RUN make"
        self.tail: list[str] = []
        self._partial = ""

    def feed(self, text: str) -> None:
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            line = _ANSI.sub("", line).rstrip("\r")
            match = _BUILD_STEP.match(line)
            if match:
                self.step = f"{match.group(1)}/{match.group(2)} {match.group(3)}"
                self.tail = []
            elif line.strip() and not _BUILD_NOISE.match(line):
                self.tail = [*self.tail, line][-self.TAIL :]

    def failure(self, action: str, cause: str) -> str:
        if self._partial.strip():
            self.feed("\n")
        where = f" at step {self.step}" if self.step else ""
        message = f"{action}: failed{where}: {cause.strip()}"
        if self.tail:
            message += "\n" + "\n".join(f"    | {line}" for line in self.tail)
        return message
