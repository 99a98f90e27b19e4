"""DOCKER_HOST=tcp://… with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem),
as the docker CLI reads them, against the real engine behind a TLS forwarder on 127.0.0.1
(the shared dockerd is never reconfigured): the SDK path verifies the server with the CA and
presents the client certificate; a wrong CA is refused."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine import Engine
from reconciler.errors import EngineUnavailable

pytestmark = pytest.mark.integration

DOCKER_SOCK = "/var/run/docker.sock"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> None:
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}-key.pem",
        "-out",
        f"{name}.pem",
        cwd=folder,
    )


def make_cert(folder: Path, ca: str, name: str, san: str | None) -> None:
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}-key.pem",
        "-out",
        f"{name}.csr",
        cwd=folder,
    )
    ext = folder / f"{name}.ext"
    ext.write_text(f"subjectAltName={san}\n" if san else "extendedKeyUsage=clientAuth\n")
    openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        f"{ca}.pem",
        "-CAkey",
        f"{ca}-key.pem",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        str(ext),
        "-out",
        f"{name}.pem",
        cwd=folder,
    )


class TlsForwarder:
    """TLS on 127.0.0.1:<port> (client certificate required) -> the engine's unix socket."""

    def __init__(self, folder: Path) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(folder / "server.pem", folder / "server-key.pem")
        self.context.load_verify_locations(folder / "ca.pem")
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(DOCKER_SOCK)
        threading.Thread(target=self._pipe, args=(upstream, conn), daemon=True).start()
        self._pipe(conn, upstream)

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError, ssl.SSLError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def pki(tmp_path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    folder = tmp_path / "pki"
    folder.mkdir()
    make_ca(folder, "ca")
    make_cert(folder, "ca", "server", "IP:127.0.0.1")
    make_cert(folder, "ca", "client", None)
    make_ca(folder, "other")
    return folder


def cert_path(pki: Path, tmp_path: Path, ca: str) -> Path:
    """A DOCKER_CERT_PATH folder laid out as the CLI expects."""
    folder = tmp_path / f"certs-{ca}"
    folder.mkdir()
    shutil.copy(pki / f"{ca}.pem", folder / "ca.pem")
    shutil.copy(pki / "client.pem", folder / "cert.pem")
    shutil.copy(pki / "client-key.pem", folder / "key.pem")
    return folder


@pytest.fixture
def forwarder(pki) -> Iterator[TlsForwarder]:
    fwd = TlsForwarder(pki)
    yield fwd
    fwd.close()


def test_tls_verify_and_cert_path_reach_the_engine(monkeypatch, tmp_path, pki, forwarder):
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{forwarder.port}")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(cert_path(pki, tmp_path, "ca")))
    with Engine.connect(timeout=30) as eng:
        assert eng.sdk_loaded and eng.api_calls == 0
        eng.observe("reconciler-tls-probe")
        assert eng.api_calls == 4


def test_a_server_not_signed_by_the_ca_is_refused(monkeypatch, tmp_path, pki, forwarder):
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{forwarder.port}")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(cert_path(pki, tmp_path, "other")))
    with pytest.raises(EngineUnavailable, match=r"127\.0\.0\.1"):
        Engine.connect(timeout=10)
