"""Migrating a running Compose project (issue 13): a project started with Debian's
docker-compose 1.29 (`docker-compose up -d`) is named by `plan`, left untouched by `apply`
without --adopt-compose, and taken over by `apply --adopt-compose`, with the data in its named
volume surviving.

The Compose project has the `project` fixture's unique name; the test removes what
docker-compose created (`docker-compose down -v`) and the fixture what reconciler created.
The image comes from the loopback registry only."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.clirun import cli as run
from tests.integration.conftest import cleanup_project

pytestmark = pytest.mark.integration

IDLE = '["sh", "-c", "trap \'exit 0\' TERM; sleep 100000 & wait"]'


def cli(*args: str) -> tuple[int, str]:
    code, out, err = run(*args)
    return code, out + err


def write_spec(tmp_path: Path, project: str, image: str, command: str) -> Path:
    spec = tmp_path / "reconciler.yaml"
    spec.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            project: {project}
            volumes:
              data: {{}}
            containers:
              web:
                image: {image}
                command: {command}
                volumes: ["data:/data"]
                stop_timeout: 1s
            """
        )
    )
    return spec


def compose(folder: Path, project: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker-compose", "-p", project, "-f", str(folder / "docker-compose.yml"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def compose_project(tmp_path, docker_client, images, project):
    """A Compose project (service web, named volume data holding a file), started with
    `docker-compose up -d`; removed afterwards, whoever owns its containers by then."""
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install -y docker-compose)")
    folder = tmp_path / "compose"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(
        textwrap.dedent(
            f"""\
            version: "3.8"
            services:
              web:
                image: {images.v1}
                command: {IDLE}
                volumes:
                  - data:/data
            volumes:
              data: {{}}
            """
        )
    )
    try:
        up = compose(folder, project, "up", "-d")
        assert up.returncode == 0, up.stdout + up.stderr
        yield folder
    finally:
        cleanup_project(docker_client, project)  # reconciler's containers leave the network
        down = compose(folder, project, "down", "-v", "--remove-orphans")
        assert down.returncode == 0, down.stdout + down.stderr


def compose_containers(client, project: str):
    return client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={project}"}
    )


def test_a_compose_project_is_adopted_with_its_volume_data(
    tmp_path, docker_client, images, project, compose_project
):
    (old,) = compose_containers(docker_client, project)
    assert old.name == f"{project}_web_1"
    code = old.exec_run(["sh", "-c", "echo kept > /data/file"]).exit_code
    assert code == 0
    spec = write_spec(tmp_path, project, images.v1, IDLE)

    code, out = cli("plan", str(spec), "--detailed-exitcode")
    assert code == 0, out  # nothing is done without the flag
    assert old.name in out and "--adopt-compose" in out, out

    code, out = cli("apply", str(spec))
    assert code == 0, out
    old.reload()
    assert old.status == "running" and old.name == f"{project}_web_1"  # never touched

    code, out = cli("plan", str(spec), "--adopt-compose", "--detailed-exitcode")
    assert code == 2 and f"adopt {old.name}" in out, out

    code, out = cli("apply", str(spec), "--adopt-compose")
    assert code == 0, out
    assert not [c for c in compose_containers(docker_client, project) if c.id == old.id]
    new = docker_client.containers.get(f"{project}-web-1")
    assert new.labels["io.reconciler.project"] == project and new.status == "running"
    assert new.exec_run(["cat", "/data/file"]).output.decode().strip() == "kept"
    mounts = {m["Destination"]: m.get("Name") for m in new.attrs["Mounts"]}
    assert mounts["/data"] == f"{project}_data"  # the volume Compose made, not a new one

    code, out = cli("plan", str(spec), "--detailed-exitcode")
    assert code == 0, out  # converged: a second pass has nothing to do


def test_a_failed_takeover_gives_the_compose_container_back(
    tmp_path, docker_client, images, project, compose_project
):
    (old,) = compose_containers(docker_client, project)
    spec = write_spec(tmp_path, project, images.v1, '["sh", "-c", "exit 3"]')
    code, out = cli("apply", str(spec), "--adopt-compose")
    assert code == 1 and "restored" in out, out
    old.reload()
    assert old.status == "running" and old.name == f"{project}_web_1"  # its own name back
    assert [c.id for c in compose_containers(docker_client, project)] == [old.id]
