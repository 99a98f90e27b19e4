"""Issue 15 (5): anonymous volumes. A replacement hands them on (the data survives);
`apply --renew-anon-volumes` gives fresh ones; `destroy --volumes` removes them with their
containers (none is left); plain `destroy` keeps them and says so."""

from __future__ import annotations

import pytest

from tests.integration.everyday.wrong_results_helpers import cli, write

pytestmark = pytest.mark.integration

SPEC = """
version: 1
project: {project}
images:
  base: {{pull: "{base}", policy: never}}
containers:
  db:
    image: base
    command: ["sleep", "100000"]
    volumes: ["/anon"]
    env: {{V: "{v}"}}
"""


def _container(client, project):
    (found,) = client.containers.list(filters={"label": f"io.reconciler.project={project}"})
    return found


def _anonymous(container) -> list[str]:
    container.reload()
    return [m["Name"] for m in container.attrs["Mounts"] if m.get("Destination") == "/anon"]


def _volume_exists(client, name: str) -> bool:
    return any(v.name == name for v in client.volumes.list())


def test_replacement_keeps_data_and_destroy_volumes_removes_them(
    tmp_path, project, images, docker_client
):
    spec = write(tmp_path, SPEC.format(project=project, base=images.base, v="1"))
    assert cli("apply", str(spec), "-p", project).code == 0
    first = _container(docker_client, project)
    assert first.exec_run(["sh", "-c", "echo kept > /anon/f"]).exit_code == 0
    (volume,) = _anonymous(first)

    write(tmp_path, SPEC.format(project=project, base=images.base, v="2"))
    assert cli("apply", str(spec), "-p", project).code == 0
    second = _container(docker_client, project)
    assert second.id != first.id
    assert _anonymous(second) == [volume]
    assert second.exec_run(["cat", "/anon/f"]).output == b"kept\n"

    write(tmp_path, SPEC.format(project=project, base=images.base, v="3"))
    result = cli("apply", str(spec), "-p", project, "--renew-anon-volumes")
    assert result.code == 0, result
    third = _container(docker_client, project)
    (fresh,) = _anonymous(third)
    assert fresh != volume and not _volume_exists(docker_client, volume)
    assert third.exec_run(["cat", "/anon/f"]).exit_code != 0

    result = cli("destroy", str(spec), "-p", project, "--volumes", "--yes")
    assert result.code == 0, result
    assert not _volume_exists(docker_client, fresh)


def test_plain_destroy_keeps_anonymous_volumes_and_says_so(
    tmp_path, project, images, docker_client
):
    spec = write(tmp_path, SPEC.format(project=project, base=images.base, v="1"))
    assert cli("apply", str(spec), "-p", project).code == 0
    (volume,) = _anonymous(_container(docker_client, project))
    try:
        result = cli("destroy", str(spec), "-p", project)
        assert result.code == 0, result
        assert _volume_exists(docker_client, volume)
        assert (
            "kept 1 anonymous volume of the removed containers (destroy --volumes removes "
            "it with their containers; now: docker volume rm " + volume + ")"
        ) in result.out, result
    finally:
        docker_client.volumes.get(volume).remove(force=True)


def test_destroy_volumes_removes_the_volume_of_an_image_volume_line(
    tmp_path, project, images, docker_client
):
    """An image with a VOLUME line (every database image) gets an anonymous volume too."""
    maker = docker_client.containers.create(images.base, ["true"], name=f"{project}-maker")
    try:
        maker.commit(f"{project}/withvol", "1", changes=['VOLUME ["/vol"]'])
    finally:
        maker.remove(force=True)
    spec = write(
        tmp_path,
        f"""
        version: 1
        project: {project}
        images:
          db: {{pull: "{project}/withvol:1", policy: never}}
        containers:
          db:
            image: db
            command: ["sleep", "100000"]
        """,
    )
    assert cli("apply", str(spec), "-p", project).code == 0
    container = _container(docker_client, project)
    container.reload()
    (volume,) = [m["Name"] for m in container.attrs["Mounts"] if m["Destination"] == "/vol"]
    result = cli("destroy", str(spec), "-p", project, "--volumes", "--yes")
    assert result.code == 0, result
    assert not _volume_exists(docker_client, volume)
