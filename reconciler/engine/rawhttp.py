"""A minimal HTTP/1.1 client for the engine's unix socket: GET requests with JSON answers,
on a plain `socket` (no http.client, which imports email.parser; no requests/urllib3).

Used by engine/client.py for the read path (the version ping and observe's list calls) when
DOCKER_HOST is a unix socket; everything else goes through the Docker SDK. Handles
Content-Length, chunked and read-until-close bodies; keeps one connection alive between
requests (reconnects once if the engine closed it while idle). Failures are
`HTTPStatusError` (an answer >= 400, with the engine's `message`, as the SDK's
APIError.explanation) and `TransportError` (connect/read failed, `timeout` set on timeouts);
client.py turns them into the project's errors exactly as it does the SDK's.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any
from urllib.parse import quote, urlencode

_MAX_HEAD = 64 * 1024


class HTTPStatusError(Exception):
    """The engine answered with an error status."""

    def __init__(self, status: int, explanation: str) -> None:
        super().__init__(f"{status}: {explanation}")
        self.status = status
        self.explanation = explanation


class TransportError(Exception):
    """The request could not be sent or the answer not read."""

    def __init__(self, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class UnixHTTP:
    """GET requests to an HTTP server on a unix socket. Thread-safe (one request at a time)."""

    def __init__(self, path: str, timeout: float = 120, keepalive: bool = True) -> None:
        self.path = path
        self.timeout = timeout
        self.keepalive = keepalive
        self._sock: socket.socket | None = None
        self._file: Any = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def api_version(self) -> str:
        """The engine's API version, negotiated as the docker CLI does: `GET /_ping` answers
        in its `Api-Version` header (0.2 ms; `/version` gathers every component's version and
        takes ~6 ms). An engine whose ping has no such header is asked `/version`."""
        status, headers, body = self.get("/_ping")
        if status >= 400:
            raise HTTPStatusError(status, _explanation(body))
        version = headers.get(b"api-version")
        if version:
            return version.decode("latin-1")
        return str(self.get_json("/version")["ApiVersion"])

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET `path` (with `params` as the query) and decode the JSON answer."""
        target = quote(path) + (f"?{urlencode(params)}" if params else "")
        status, _, body = self.get(target)
        if status >= 400:
            raise HTTPStatusError(status, _explanation(body))
        try:
            return json.loads(body) if body else None
        except ValueError as exc:
            raise TransportError(f"invalid JSON from the engine for GET {path}: {exc}") from exc

    def get(self, target: str) -> tuple[int, dict[bytes, bytes], bytes]:
        """One GET exchange: (status, headers by lower-case name, body). A kept-alive
        connection the engine closed while idle is retried once on a fresh one (GET is
        idempotent)."""
        with self._lock:
            if self._sock is not None:
                try:
                    return self._exchange(target)
                except TimeoutError as exc:
                    self._drop()
                    raise TransportError(str(exc) or "timed out", timeout=True) from exc
                except (_StaleConnection, OSError):
                    self._drop()
                except TransportError:
                    self._drop()
                    raise
                except ValueError as exc:
                    self._drop()
                    raise TransportError(f"bad HTTP answer from the engine: {exc}") from exc
            try:
                return self._exchange(target)
            except _StaleConnection:
                self._drop()
                raise TransportError("the engine closed the connection") from None
            except TimeoutError as exc:
                self._drop()
                raise TransportError(str(exc) or "timed out", timeout=True) from exc
            except OSError as exc:
                self._drop()
                raise TransportError(str(exc) or type(exc).__name__) from exc
            except TransportError:
                self._drop()
                raise
            except ValueError as exc:
                self._drop()
                raise TransportError(f"bad HTTP answer from the engine: {exc}") from exc

    # --- internals --------------------------------------------------------------------------
    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._file = sock.makefile("rb")

    def _drop(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._file = None

    def _exchange(self, target: str) -> tuple[int, dict[bytes, bytes], bytes]:
        if self._sock is None:
            self._connect()
        assert self._sock is not None
        connection = "keep-alive" if self.keepalive else "close"
        self._sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: docker\r\nUser-Agent: reconciler\r\n"
            f"Accept: application/json\r\nConnection: {connection}\r\n\r\n".encode("latin-1")
        )
        f = self._file
        line = f.readline(_MAX_HEAD)
        if not line:
            raise _StaleConnection
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise TransportError(f"not an HTTP answer from the engine: {line[:80]!r}")
        status = int(parts[1])
        headers: dict[bytes, bytes] = {}
        size = 0
        while True:
            line = f.readline(_MAX_HEAD)
            size += len(line)
            if not line or size > _MAX_HEAD:
                raise TransportError("truncated or oversized HTTP header from the engine")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            body = self._read_chunked()
            persistent = True
        elif b"content-length" in headers:
            length = int(headers[b"content-length"])
            body = f.read(length)
            if len(body) != length:
                raise TransportError("the engine's answer ended early")
            persistent = True
        elif status in (204, 304) or 100 <= status < 200:
            body, persistent = b"", True
        else:
            body, persistent = f.read(), False
        if not self.keepalive or not persistent or headers.get(b"connection") == b"close":
            self._drop()
        return status, headers, body

    def _read_chunked(self) -> bytes:
        f = self._file
        chunks: list[bytes] = []
        while True:
            line = f.readline(_MAX_HEAD)
            if not line:
                raise TransportError("the engine's chunked answer ended early")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while f.readline(_MAX_HEAD) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(chunks)
            chunk = f.read(size)
            if len(chunk) != size:
                raise TransportError("the engine's chunked answer ended early")
            chunks.append(chunk)
            f.readline(_MAX_HEAD)  # the CRLF after each chunk


class _StaleConnection(Exception):
    """The server closed the connection before answering (an idle keep-alive socket)."""


def _explanation(body: bytes) -> str:
    """The engine's error text: JSON `message`, else the body (as the SDK's APIError)."""
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    if isinstance(message, str):
        return message.strip()
    return body.decode("utf-8", errors="replace").strip()
