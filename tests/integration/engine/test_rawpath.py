"""The SDK-free read path (engine/rawhttp.py on the unix socket) against the real engine:
its answers equal the SDK's for the same calls, observe gives the same State on the raw path
and on the SDK path (TCP, through a forwarder on 127.0.0.1 to the unix socket: the shared
dockerd is never reconfigured), errors translate alike, Docker contexts and DOCKER_HOST
select the path, and a mutation after a raw read makes the SDK client without another
version call."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.proxy import CountingProxy
from reconciler.engine import Engine
from reconciler.engine.rawhttp import UnixHTTP
from reconciler.errors import NotFound
from reconciler.model.labels import LABEL_PROJECT

pytestmark = pytest.mark.integration

DOCKER_SOCK = "/var/run/docker.sock"


class TcpForwarder:
    """127.0.0.1:<port> -> the engine's unix socket: for the client, an engine on TCP."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(DOCKER_SOCK)
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def forwarder() -> Iterator[TcpForwarder]:
    fwd = TcpForwarder()
    yield fwd
    fwd.close()


@pytest.fixture
def clean_env(monkeypatch, tmp_path) -> Path:
    """No DOCKER_* from the caller; a private Docker config folder."""
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


@pytest.fixture
def populated(docker_client, project, images) -> str:
    """Two containers (one running), a network and a volume labelled with the project."""
    labels = {LABEL_PROJECT: project}
    docker_client.networks.create(f"{project}_net", labels=labels)
    docker_client.volumes.create(f"{project}_vol", labels=labels)
    for i in (1, 2):
        c = docker_client.containers.create(
            images.base,
            ["sleep", "300"],
            name=f"{project}-web-{i}",
            labels={**labels, "io.reconciler.key": "web", "io.reconciler.replica": str(i)},
            stop_signal="SIGKILL",
        )
        if i == 1:
            c.start()
    return project


def add_context(config: Path, name: str, host: str, current: bool = False) -> None:
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    body = {"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host}}}
    (meta / "meta.json").write_text(json.dumps(body))
    if current:
        (config / "config.json").write_text(json.dumps({"currentContext": name}))


def project_view(state):
    return (state.containers, state.networks, state.volumes, state.project_images)


def without_status(containers: list[dict]) -> list[dict]:
    """`Status` is display text with a running time in it ("Up 2 seconds"): it may change
    between two calls."""
    return [{k: v for k, v in c.items() if k != "Status"} for c in containers]


def test_raw_answers_equal_the_sdks_for_the_same_calls(docker_client, populated):
    api = docker_client.api
    raw = UnixHTTP(DOCKER_SOCK, timeout=30)
    v = f"/v{api.api_version}"
    label = json.dumps({"label": [f"{LABEL_PROJECT}={populated}"]})
    try:
        assert raw.get_json("/version")["ApiVersion"] == api.version()["ApiVersion"]
        assert raw.api_version() == api.version()["ApiVersion"]  # the ping's header
        raw_containers = raw.get_json(
            f"{v}/containers/json", {"limit": -1, "all": 1, "size": 0, "filters": label}
        )
        sdk_containers = api.containers(all=True, filters={"label": f"{LABEL_PROJECT}={populated}"})
        assert without_status(raw_containers) == without_status(sdk_containers)
        assert len(raw_containers) == 2
        assert raw.get_json(f"{v}/networks", {"filters": label}) == api.networks(
            filters={"label": f"{LABEL_PROJECT}={populated}"}
        )
        assert raw.get_json(f"{v}/volumes", {"filters": label}) == api.volumes(
            filters={"label": f"{LABEL_PROJECT}={populated}"}
        )
        ref = json.dumps({"reference": ["stand-in/busybox:latest"]})
        assert raw.get_json(f"{v}/images/json", {"filters": ref}) == api.images(
            name="stand-in/busybox:latest"
        )
    finally:
        raw.close()


def test_observe_is_the_same_on_the_raw_and_the_tcp_sdk_path(clean_env, populated, forwarder):
    with (
        Engine.connect() as raw_engine,
        Engine.connect(base_url=f"tcp://127.0.0.1:{forwarder.port}") as sdk_engine,
    ):
        raw_state = raw_engine.observe(populated)
        sdk_state = sdk_engine.observe(populated)
        assert not raw_engine.sdk_loaded and sdk_engine.sdk_loaded
        assert raw_engine.api_calls == sdk_engine.api_calls == 4
        assert raw_engine.api_version == sdk_engine.api_version
    assert project_view(raw_state) == project_view(sdk_state)
    assert [c.name for c in raw_state.containers] == [f"{populated}-web-1", f"{populated}-web-2"]


def test_errors_translate_alike_on_both_paths(clean_env, forwarder):
    messages = []
    for base_url in (None, f"tcp://127.0.0.1:{forwarder.port}"):
        with Engine.connect(base_url=base_url) as eng, pytest.raises(NotFound) as info:
            eng.inspect_container("reconciler-no-such-container")
        messages.append(str(info.value))
    # inspect goes through the SDK on both: now the raw path's own translation of a 404
    name = "reconciler-no-such-container"
    with (
        Engine.connect() as eng,
        pytest.raises(NotFound) as info,
        eng._translate(
            f"cannot inspect container {name}",
            not_found=lambda e: f"container {name} not found ({e})",
        ),
    ):
        eng._raw_get(f"/containers/{name}/json")
    assert not eng.sdk_loaded
    messages.append(str(info.value))
    assert len(set(messages)) == 1, messages


def test_current_context_selects_the_tcp_engine(clean_env, populated, forwarder):
    add_context(clean_env, "fwd", f"tcp://127.0.0.1:{forwarder.port}", current=True)
    with Engine.connect() as eng:
        assert eng.address == f"tcp://127.0.0.1:{forwarder.port}"
        assert eng.observe(populated).containers[0].name.endswith("-web-1")
        assert eng.sdk_loaded


def test_docker_context_selects_a_unix_engine_on_the_raw_path(clean_env, monkeypatch, populated):
    add_context(clean_env, "fwd", "tcp://127.0.0.1:1", current=True)
    add_context(clean_env, "local", f"unix://{DOCKER_SOCK}")
    monkeypatch.setenv("DOCKER_CONTEXT", "local")
    with Engine.connect() as eng:
        assert len(eng.observe(populated).containers) == 2
        assert not eng.sdk_loaded


def test_docker_host_tcp_wins_over_contexts(clean_env, monkeypatch, populated, forwarder):
    add_context(clean_env, "broken", "tcp://127.0.0.1:1", current=True)
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{forwarder.port}")
    with Engine.connect() as eng:
        assert len(eng.observe(populated).containers) == 2


def test_a_mutation_after_a_raw_read_costs_no_second_version_call(
    clean_env, monkeypatch, tmp_path, project, images
):
    with CountingProxy(str(tmp_path / "proxy.sock")) as proxy:
        monkeypatch.setenv("DOCKER_HOST", proxy.docker_host)
        with Engine.connect() as eng:
            eng.observe(project)
            assert not eng.sdk_loaded
            eng.create_volume(f"{project}_data", labels={LABEL_PROJECT: project})
            assert eng.sdk_loaded
            assert eng.api_calls == 5
        calls = proxy.breakdown()
    assert calls["GET /_ping"] == 1  # the raw path's version; the SDK reuses it
    assert "GET /version" not in calls
    assert sum(calls.values()) == 6
