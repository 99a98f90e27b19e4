"""Issue 16 #1 on the real engine: project `<p>` with volume key `b_data` and project `<p>_b`
with key `data` both mean the engine volume `<p>_b_data`; the second project is refused (a
located error naming the owner), and `destroy --volumes` of either never deletes the other's."""

from __future__ import annotations

from tests.integration.conftest import cleanup_project
from tests.integration.test_apply import cli

SPEC = """\
version: 1
project: {project}
containers:
  box:
    image: {image}
    command: ["sleep", "100000"]
    stop_timeout: 1s
    volumes: ["{key}:/data"]
volumes:
  {key}: {{}}
"""


def test_a_volume_name_shared_by_two_projects_is_refused(tmp_path, project, images, docker_client):
    other = f"{project}_b"
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(SPEC.format(project=other, image=images.base, key="data"))
    second.write_text(SPEC.format(project=project, image=images.base, key="b_data"))
    try:
        assert cli("apply", str(first)).code == 0
        volume = f"{project}_b_data"
        docker_client.containers.get(f"{other}-box-1").exec_run(["sh", "-c", "echo mine > /data/f"])
        result = cli("apply", str(second))
        assert result.code == 1, result
        assert f"engine volume {volume} belongs to project {other}" in result.err, result
        assert f"{second}:" in result.err  # located at the spec's volume
        result = cli("destroy", str(second), "--volumes", "--yes")
        assert docker_client.volumes.get(volume)  # still there
        box = docker_client.containers.get(f"{other}-box-1")
        assert box.exec_run(["cat", "/data/f"]).output.decode().strip() == "mine"
    finally:
        cli("destroy", str(first), "--volumes", "--yes")
        cleanup_project(docker_client, other)
