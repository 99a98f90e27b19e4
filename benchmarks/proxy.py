"""A counting proxy on a unix socket in front of the Docker engine.

A client pointed at it (DOCKER_HOST=unix://<path>) is measured as it is: the proxy counts
every HTTP request the client sends (keep-alive connections included, by parsing the request
framing: Content-Length and chunked bodies) and forwards the bytes unchanged. A request that
upgrades the connection (attach, exec start) switches that connection to a plain pipe.

`RequestCounter` is the pure framing parser (unit-tested); `CountingProxy` runs the sockets.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field

_BUF = 65536
_COLLECTIONS = ("containers", "images", "networks", "volumes", "exec", "plugins")
_COLLECTION_VERBS = ("json", "create", "prune", "load", "search", "get")
_MAX_HEADER = 1 << 20


class FramingError(ValueError):
    """The byte stream is not a sequence of HTTP/1.1 requests."""


@dataclass
class RequestCounter:
    """Feed it a client's byte stream in any chunks; it returns the requests that started.

    States: reading headers; skipping a Content-Length body; reading a chunked body; raw
    (after an upgrade: nothing more is counted on this connection)."""

    buffer: bytes = b""
    body_left: int = 0
    chunked: bool = False
    chunk_state: str = "size"  # size | data | data-crlf | trailer
    raw: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        if self.raw:
            return []
        self.buffer += data
        started: list[tuple[str, str]] = []
        while self.buffer and not self.raw:
            if self.body_left:
                take = min(self.body_left, len(self.buffer))
                self.body_left -= take
                self.buffer = self.buffer[take:]
                if self.body_left:
                    break
                if self.chunked and self.chunk_state == "data":
                    self.chunk_state = "data-crlf"
                continue
            if self.chunked:
                if not self._chunk_step():
                    break
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_HEADER:
                    raise FramingError("request headers too long")
                break
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            started.append(self._start(head))
        self.requests.extend(started)
        return started

    def _start(self, head: bytes) -> tuple[str, str]:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 3 or not parts[2].startswith("HTTP/"):
            raise FramingError(f"not an HTTP request line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "upgrade" in headers or "upgrade" in headers.get("connection", "").lower():
            self.raw = True
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self.chunked, self.chunk_state = True, "size"
        elif headers.get("content-length"):
            self.body_left = int(headers["content-length"])
        method, target = parts[0], parts[1]
        return method, target

    def _chunk_step(self) -> bool:
        """Consume one piece of a chunked body; False when more bytes are needed."""
        end = self.buffer.find(b"\r\n")
        if self.chunk_state == "data-crlf":
            if len(self.buffer) < 2:
                return False
            self.buffer = self.buffer[2:]
            self.chunk_state = "size"
            return True
        if end < 0:
            return False
        line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        if self.chunk_state == "trailer":
            if not line:  # end of trailers: the request is complete
                self.chunked = False
            return True
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            self.chunk_state = "trailer"
        else:
            self.body_left, self.chunk_state = size, "data"
        return True


def normalise_path(target: str) -> str:
    """`/v1.41/containers/json?all=1` -> `/containers/json`; container ids and names in
    paths become `{id}` so a breakdown groups the same call."""
    path = target.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    if parts and parts[0].startswith("v") and parts[0][1:2].isdigit():
        parts = parts[1:]
    if parts and parts[0] in _COLLECTIONS:
        if len(parts) >= 3:
            parts = [parts[0], "{id}", parts[-1]]  # an image name may contain slashes
        elif len(parts) == 2 and parts[1] not in _COLLECTION_VERBS:
            parts = [parts[0], "{id}"]  # DELETE /containers/<id>
    return "/" + "/".join(parts)


class CountingProxy:
    """Listens on `path`, forwards to the engine's unix socket, counts requests."""

    def __init__(self, path: str, upstream: str = "/var/run/docker.sock") -> None:
        self.path = path
        self.upstream = upstream
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._closing = False

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> CountingProxy:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.path)
        server.listen(64)
        self._server = server
        thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._closing = True
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()

    def requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests)

    def count(self) -> int:
        with self._lock:
            return len(self._requests)

    def breakdown(self) -> Counter:
        return Counter(f"{m} {normalise_path(t)}" for m, t in self.requests())

    def _accept(self) -> None:
        assert self._server is not None
        while not self._closing:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            counter = RequestCounter()
            pair = _Pair(client, upstream)
            for src, dst, count in ((client, upstream, counter), (upstream, client, None)):
                t = threading.Thread(target=self._pipe, args=(src, dst, count, pair), daemon=True)
                t.start()

    def _pipe(
        self,
        src: socket.socket,
        dst: socket.socket,
        counter: RequestCounter | None,
        pair: _Pair,
    ) -> None:
        try:
            while True:
                data = src.recv(_BUF)
                if not data:
                    break
                if counter is not None:
                    try:
                        started = counter.feed(data)
                    except FramingError:
                        counter.raw = True  # stop counting, keep forwarding
                        started = []
                    if started:
                        with self._lock:
                            self._requests.extend(started)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
            with contextlib.suppress(OSError):
                src.shutdown(socket.SHUT_RD)
            pair.done()


class _Pair:
    """The two sockets of one proxied connection: closed when both directions ended."""

    def __init__(self, a: socket.socket, b: socket.socket) -> None:
        self._sockets = (a, b)
        self._open = 2
        self._lock = threading.Lock()

    def done(self) -> None:
        with self._lock:
            self._open -= 1
            last = self._open == 0
        if last:
            for s in self._sockets:
                s.close()
