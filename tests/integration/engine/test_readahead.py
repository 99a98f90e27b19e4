"""engine/readahead.py against the real engine: the first observe after a read-ahead gives the
State a fresh observe gives, costs no request of its own, and is taken once (the next observe,
as under the lease, asks the engine again); a read-ahead for another socket, or one that
failed, is not used; none starts for a TCP host; the CLI's no-op sends each of the five
requests once (counted by benchmarks/proxy.py); an invalid spec ends as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.proxy import CountingProxy
from reconciler.engine import Engine, readahead
from reconciler.errors import EngineUnavailable
from reconciler.model.labels import LABEL_PROJECT

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def no_leftover_read_ahead():
    readahead.discard()
    yield
    readahead.discard()


@pytest.fixture
def unix_env(monkeypatch, tmp_path) -> None:
    """The default socket, whatever the caller's DOCKER_* and Docker config say."""
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


@pytest.fixture
def labelled(docker_client, project, images) -> str:
    labels = {LABEL_PROJECT: project, "io.reconciler.key": "web", "io.reconciler.replica": "1"}
    docker_client.containers.create(
        images.base, ["sleep", "300"], name=f"{project}-web-1", labels=labels
    )
    docker_client.networks.create(f"{project}_net", labels={LABEL_PROJECT: project})
    return project


def view(state):
    return (state.containers, state.networks, state.volumes, state.project_images)


def test_the_first_observe_takes_the_read_ahead_once(unix_env, labelled):
    with Engine.connect() as fresh:
        expected = fresh.observe(labelled)
    readahead.start()
    with Engine.connect() as engine:
        first = engine.observe(labelled)
        assert engine.api_calls == 4  # counted as the four lists it answers
        assert view(first) == view(expected)
        second = engine.observe(labelled)  # as under the lease: asked again
        assert engine.api_calls == 8
        assert view(second) == view(expected)
        assert not engine.sdk_loaded


def test_what_changed_after_the_read_ahead_is_seen_by_the_next_observe(
    unix_env, labelled, docker_client, images
):
    readahead.start()
    with Engine.connect() as engine:
        labels = {LABEL_PROJECT: labelled, "io.reconciler.key": "web", "io.reconciler.replica": "2"}
        docker_client.containers.create(
            images.base, ["sleep", "300"], name=f"{labelled}-web-2", labels=labels
        )
        first = engine.observe(labelled)
        second = engine.observe(labelled)
    assert [c.name for c in first.containers] == [f"{labelled}-web-1"]
    assert [c.name for c in second.containers] == [f"{labelled}-web-1", f"{labelled}-web-2"]


def test_a_read_ahead_of_another_socket_is_not_used(unix_env, labelled, tmp_path, monkeypatch):
    with CountingProxy(str(tmp_path / "proxy.sock")) as proxy:
        monkeypatch.setenv("DOCKER_HOST", proxy.docker_host)
        readahead.start()  # through the proxy
        monkeypatch.delenv("DOCKER_HOST")
        with Engine.connect() as engine:  # the default socket: reads afresh
            engine.observe(labelled)
            assert engine.api_calls == 4
    assert readahead.take("/var/run/docker.sock", 120) is None  # nothing left behind


def test_a_failed_read_ahead_leaves_connect_to_report(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    readahead.start()
    with pytest.raises(EngineUnavailable, match="cannot reach the Docker engine"):
        Engine.connect()


def test_no_read_ahead_for_a_tcp_host(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    readahead.start()
    assert readahead._pending is None


RUN = """
import sys, threading
from reconciler.cli import main
rc = main(sys.argv[1:])
print("THREADS=" + ",".join(t.name for t in threading.enumerate()), file=sys.stderr)
sys.exit(rc)
"""


def cli(args: list[str], docker_host: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", DOCKER_HOST=docker_host)
    return subprocess.run(
        [sys.executable, "-c", RUN, *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_the_cli_sends_each_request_once(tmp_path: Path, project, images):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"version: 1\nproject: {project}\ncontainers:\n  web:\n"
        f"    image: {images.base}\n    command: [sleep, '300']\n    state: stopped\n"
    )
    with CountingProxy(str(tmp_path / "proxy.sock")) as proxy:
        cold = cli(["apply", str(spec)], proxy.docker_host)
        assert cold.returncode == 0, cold.stderr
        proxy.reset()
        noop = cli(["plan", "--detailed-exitcode", str(spec)], proxy.docker_host)
        assert noop.returncode == 0, noop.stderr
        assert proxy.count() == 5  # the version ping and the four lists, each once
        assert "read-ahead" not in noop.stderr.rsplit("THREADS=", 1)[-1]


def test_an_invalid_spec_ends_as_before(tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("version: 1\nproject: Bad Name\n")
    with CountingProxy(str(tmp_path / "proxy.sock")) as proxy:
        result = cli(["apply", str(spec)], proxy.docker_host)
        sent = proxy.requests()
    assert all(method == "GET" for method, _ in sent), sent  # at most the read-ahead's reads
    assert result.returncode == 1
    assert f"{spec}:2:" in result.stderr
    assert "Traceback" not in result.stderr
