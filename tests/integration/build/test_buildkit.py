"""Builds the way Compose does them, against the real engine (issue 13): BuildKit through a
docker CLI that can (cache mounts, build secrets), the fallback to the classic builder with
its message, a heredoc refused with its Dockerfile line, only the target's stages counting,
and a FROM image pulled on demand from the loopback registry.

Everything is labelled with the `project` fixture's name or tagged under it, and removed by
it. The BuildKit tests skip (saying why) only when no docker CLI on this machine can use
BuildKit (Debian's docker.io provides /usr/bin/docker 20.10, which can)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.engine import buildkit
from tests.clirun import cli

pytestmark = pytest.mark.integration

IDLE = '["sh", "-c", "trap \'exit 0\' TERM; sleep 100000 & wait"]'


def write(tmp_path: Path, project: str, dockerfile: str, build: str, files=None) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(textwrap.dedent(dockerfile))
    for name, text in (files or {}).items():
        (ctx / name).write_text(text)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"version: 1\nproject: {project}\nimages:\n  app:\n    build:\n      context: ctx\n"
        + textwrap.indent(textwrap.dedent(build), "      ")
        + f"containers:\n  c: {{image: app, command: {IDLE}, stop_timeout: 1s}}\n"
    )
    return spec


def exec_out(client, name: str, *cmd: str) -> str:
    return client.containers.get(name).exec_run(list(cmd)).output.decode().strip()


@pytest.fixture
def capable_cli(docker_client) -> str:
    from reconciler.engine import Engine

    with Engine.connect() as engine:
        path, why = engine.buildkit_cli()
    if path is None:
        pytest.skip(f"no docker CLI here can build with BuildKit: {why}")
    return path


@pytest.fixture
def no_capable_cli(monkeypatch):
    """Only the CLI first on PATH is seen (a 28.x without buildx on this image)."""
    import shutil

    first = shutil.which("docker")
    if first is None:
        pytest.skip("no docker CLI on PATH")
    probe = buildkit.probe_cli(first, buildkit.os.environ)
    if probe is None:
        pytest.skip(f"the docker CLI first on PATH ({first}) can use BuildKit: no fallback")
    monkeypatch.setattr(buildkit, "_candidates", lambda: [first])
    monkeypatch.setattr(buildkit, "_FOUND", {})
    return first


CACHE_DOCKERFILE = """\
    # syntax=docker/dockerfile:1
    FROM stand-in/busybox:latest
    COPY version /version
    RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /count
    RUN --mount=type=secret,id=token wc -c < /run/secrets/token > /token-bytes
    """


def test_buildkit_build_keeps_its_cache_mount_and_reads_a_secret(
    tmp_path, docker_client, images, project, capable_cli, monkeypatch
):
    monkeypatch.setattr(buildkit, "_FOUND", {})
    (tmp_path / "token.txt").write_text("s3cret")
    build = "secrets: {token: token.txt}\n"
    spec = write(tmp_path, project, CACHE_DOCKERFILE, build, {"version": "1\n"})
    name = f"{project}-c-1"

    code, out, err = cli("plan", str(spec), "-p", project)
    assert code == 0 and "syntax=docker/dockerfile:1" in out + err, out + err
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 0, out + err
    assert "with BuildKit" in out + err, out + err
    assert exec_out(docker_client, name, "cat", "/token-bytes") == "6"
    first = int(exec_out(docker_client, name, "cat", "/count"))
    labels = docker_client.images.get(f"{project}/app:latest").labels
    assert labels["io.reconciler.project"] == project

    code, out, err = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert code == 0, out + err  # same inputs: no rebuild

    (tmp_path / "ctx" / "version").write_text("2\n")  # invalidates the RUN layer
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 0, out + err
    assert int(exec_out(docker_client, name, "cat", "/count")) == first + 1  # the cache kept


def test_buildkit_failure_shows_the_output_tail(
    tmp_path, docker_client, images, project, capable_cli, monkeypatch
):
    monkeypatch.setattr(buildkit, "_FOUND", {})
    dockerfile = 'FROM stand-in/busybox:latest\nRUN echo "boom-output" && exit 3\n'
    spec = write(tmp_path, project, dockerfile, "builder: buildkit\n")
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 1
    assert "BuildKit build" in err and "at step 2/2 RUN echo" in err, out + err
    assert "| boom-output" in err and "exit code: 3" in err, out + err


def test_without_a_capable_cli_auto_falls_back_to_the_classic_builder(
    tmp_path, docker_client, images, project, no_capable_cli
):
    spec = write(tmp_path, project, "FROM stand-in/busybox:latest\nRUN echo ok > /ok\n", "")
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 0, out + err
    assert "with the classic builder: BuildKit is not available" in out + err, out + err
    assert "needs the buildx plugin" in out + err
    assert exec_out(docker_client, f"{project}-c-1", "cat", "/ok") == "ok"

    spec = write(tmp_path, project, "FROM stand-in/busybox:latest\n", "builder: buildkit\n")
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 1 and "`builder: buildkit` needs BuildKit" in err, out + err


def test_heredoc_is_refused_with_its_dockerfile_line(tmp_path, docker_client, images, project):
    dockerfile = "FROM stand-in/busybox:latest\nRUN <<EOF\necho hi\nEOF\n"
    spec = write(tmp_path, project, dockerfile, "")
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 1, out + err
    where = f"{tmp_path / 'ctx' / 'Dockerfile'}:2"
    assert where in err and "heredoc" in err, out + err


@pytest.mark.parametrize("builder", ["classic", "auto"])
def test_an_unused_stage_needs_no_base_image(tmp_path, docker_client, images, project, builder):
    missing = f"{images.registry}/{project}/never-pushed:1"
    dockerfile = f"""\
        FROM {missing} AS unused
        RUN echo never
        FROM stand-in/busybox:latest AS app
        RUN echo app > /stage
        FROM {missing} AS after
        """
    spec = write(tmp_path, project, dockerfile, f"target: app\nbuilder: {builder}\n")
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 0, out + err
    assert exec_out(docker_client, f"{project}-c-1", "cat", "/stage") == "app"
    code, out, err = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert code == 0, out + err


def test_a_from_image_is_pulled_on_demand(tmp_path, docker_client, images, project):
    base = f"{images.registry}/{project}/base:1"
    repository, tag = base.rsplit(":", 1)
    docker_client.images.get(images.base).tag(repository, tag)
    for event in docker_client.api.push(repository, tag=tag, stream=True, decode=True):
        assert "error" not in event, event
    docker_client.images.remove(base)
    spec = write(tmp_path, project, f"FROM {base}\nRUN echo pulled > /p\n", "")

    code, out, err = cli("plan", str(spec), "-p", project)
    assert code == 0 and f"FROM {base} pulled on demand" in out, out + err
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 0, out + err
    assert docker_client.images.get(base)  # pulled from the loopback registry
    assert exec_out(docker_client, f"{project}-c-1", "cat", "/p") == "pulled"
    code, out, err = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert code == 0, out + err
