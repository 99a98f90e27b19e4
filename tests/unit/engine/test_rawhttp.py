"""engine/rawhttp.py's HTTP/1.1 handling against a scripted server on a unix socket:
Content-Length, chunked and read-until-close bodies, keep-alive reuse and the retry on a
connection closed while idle, error answers, refused connections. (Its answers are compared
with the SDK's on the real engine in tests/integration/engine/test_rawpath.py.)"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine.rawhttp import HTTPStatusError, TransportError, UnixHTTP


class Server:
    """Answers each request with the next scripted reply; records connections and requests."""

    def __init__(self, path: str, replies: list[bytes | None]) -> None:
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while self.replies:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                self.requests.append(head)
                reply = self.replies.pop(0)
                if reply is None:  # close without answering (an idle keep-alive drop)
                    return
                conn.sendall(reply)
                if b"Connection: close" in reply:
                    return


@pytest.fixture
def sock_path(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "s.sock")


def ok(body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{extra}\r\n"
    ).encode() + body


def chunked(*parts: bytes) -> bytes:
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for p in parts:
        out += f"{len(p):x}\r\n".encode() + p + b"\r\n"
    return out + b"0\r\n\r\n"


def test_content_length_and_keepalive_reuse(sock_path):
    server = Server(sock_path, [ok(b'{"a": 1}'), ok(b"[1, 2]")])
    client = UnixHTTP(sock_path, timeout=5)
    assert client.get_json("/v1.41/x", {"all": 1, "limit": -1}) == {"a": 1}
    assert client.get_json("/v1.41/y") == [1, 2]
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /v1.41/x?all=1&limit=-1 HTTP/1.1\r\n")
    client.close()


def test_chunked_body(sock_path):
    Server(sock_path, [chunked(b'[{"Id": "', b"abc", b'"}]')])
    assert UnixHTTP(sock_path, timeout=5).get_json("/c") == [{"Id": "abc"}]


def test_api_version_from_the_pings_header(sock_path):
    server = Server(sock_path, [ok(b"OK", "Api-Version: 1.43\r\n")])
    assert UnixHTTP(sock_path, timeout=5).api_version() == "1.43"
    assert server.requests[0].startswith(b"GET /_ping HTTP/1.1\r\n")
    assert len(server.requests) == 1


def test_api_version_asks_version_when_the_ping_has_no_header(sock_path):
    server = Server(sock_path, [ok(b"OK"), ok(b'{"ApiVersion": "1.24"}')])
    assert UnixHTTP(sock_path, timeout=5).api_version() == "1.24"
    assert [r.split(b" ")[1] for r in server.requests] == [b"/_ping", b"/version"]


def test_api_version_of_a_failing_ping_is_an_http_status_error(sock_path):
    body = b'{"message": "engine is starting"}'
    Server(sock_path, [ok(body).replace(b"200 OK", b"503 Service Unavailable")])
    with pytest.raises(HTTPStatusError) as err:
        UnixHTTP(sock_path, timeout=5).api_version()
    assert (err.value.status, err.value.explanation) == (503, "engine is starting")


def test_body_until_close(sock_path):
    Server(sock_path, [b'HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n{"v": "1.41"}'])
    assert UnixHTTP(sock_path, timeout=5).get_json("/version") == {"v": "1.41"}


def test_idle_connection_closed_by_the_server_is_retried_once(sock_path):
    server = Server(sock_path, [ok(b"1"), None, ok(b"2")])
    client = UnixHTTP(sock_path, timeout=5)
    assert client.get_json("/a") == 1
    assert client.get_json("/b") == 2
    assert server.connections == 2


def test_one_request_per_connection_mode(sock_path):
    server = Server(sock_path, [ok(b"1"), ok(b"2")])
    client = UnixHTTP(sock_path, timeout=5, keepalive=False)
    assert (client.get_json("/a"), client.get_json("/b")) == (1, 2)
    assert server.connections == 2
    assert b"Connection: close" in server.requests[0]


def test_error_answer_carries_the_engine_message(sock_path):
    body = b'{"message":"No such container: nope"}'
    Server(sock_path, [ok(body).replace(b"200 OK", b"404 Not Found")])
    with pytest.raises(HTTPStatusError) as info:
        UnixHTTP(sock_path, timeout=5).get_json("/containers/nope/json")
    assert (info.value.status, info.value.explanation) == (404, "No such container: nope")


def test_error_answer_without_json_keeps_the_text(sock_path):
    Server(sock_path, [ok(b"page not found\n").replace(b"200 OK", b"404 Not Found")])
    with pytest.raises(HTTPStatusError) as info:
        UnixHTTP(sock_path, timeout=5).get_json("/nope")
    assert info.value.explanation == "page not found"


def test_missing_socket_is_a_transport_error(sock_path):
    with pytest.raises(TransportError, match="No such file"):
        UnixHTTP(sock_path, timeout=5).get_json("/version")


def test_not_http_is_a_transport_error(sock_path):
    Server(sock_path, [b"SSH-2.0-OpenSSH\r\n\r\n"])
    with pytest.raises(TransportError, match="not an HTTP answer"):
        UnixHTTP(sock_path, timeout=5).get_json("/version")


def test_truncated_body_is_a_transport_error(sock_path):
    Server(sock_path, [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n[1"])
    with pytest.raises(TransportError, match="ended early"):
        UnixHTTP(sock_path, timeout=5).get_json("/x")


def test_timeout_is_flagged(sock_path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(1)  # accepts (backlog) but never answers
    with pytest.raises(TransportError) as info:
        UnixHTTP(sock_path, timeout=0.2).get_json("/version")
    assert info.value.timeout
    server.close()
