"""Issue 16 #2 against the real engine: a replacement or create whose new container dies right
after its start (init: true + a missing binary: tini exits 127) is rolled back, exit 1, with
the exit code and the log tail; a restart policy that restarts it is judged by its restarts."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_apply import cli

SPEC = """\
version: 1
project: {project}
containers:
  web:
    image: {image}
    init: true
    command: {command}
    stop_timeout: 1s
{extra}"""


def _spec(tmp_path: Path, project: str, image: str, command: str, extra: str = "") -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(project=project, image=image, command=command, extra=extra))
    return str(path)


def test_a_replacement_whose_new_container_dies_is_rolled_back(
    tmp_path, project, images, docker_client
):
    good = _spec(tmp_path, project, images.base, '["sleep", "300"]')
    assert cli("apply", good).code == 0
    old = docker_client.containers.get(f"{project}-web-1")
    bad = _spec(tmp_path, project, images.base, '["/nonexistent-binary"]')
    result = cli("apply", bad)
    assert result.code == 1, result
    assert "exited with code 127" in result.err, result
    assert "nonexistent-binary" in result.err, result  # tini's line from the log tail
    assert "was restored" in result.err, result
    now = docker_client.containers.get(f"{project}-web-1")
    assert now.id == old.id and now.status == "running"
    # every later apply fails the same way, and never claims success
    assert cli("apply", bad).code == 1


def test_a_create_whose_container_dies_fails_and_is_kept_stopped_for_its_logs(
    tmp_path, project, images, docker_client
):
    bad = _spec(tmp_path, project, images.base, '["/nonexistent-binary"]')
    result = cli("apply", bad)
    assert result.code == 1, result
    assert "exited with code 127" in result.err, result
    assert docker_client.containers.get(f"{project}-web-1").status == "exited"
    again = cli("apply", bad)  # started again, and judged again: never "started", exit 0
    assert again.code == 1 and "exited with code 127" in again.err, again


def test_a_restart_policy_that_restarts_it_is_judged_by_its_restarts(tmp_path, project, images):
    bad = _spec(tmp_path, project, images.base, '["sh", "-c", "exit 3"]', "    restart: always\n")
    result = cli("apply", bad, "--settle", "3")
    assert result.code == 1, result
    assert "restart" in result.err, result
