"""Issue 15 (6): plan shows a host-port clash with a container outside the project as a
located error naming it (exit 1); apply refuses it before stopping anything."""

from __future__ import annotations

import pytest

from tests.integration.everyday.wrong_results_helpers import cli, free_port, write

pytestmark = pytest.mark.integration

SPEC = """
version: 1
project: {project}
images:
  base: {{pull: "{base}", policy: never}}
containers:
  web:
    image: base
    command: ["sleep", "100000"]
    ports: ["127.0.0.1:{port}:80"]
"""


def test_foreign_port_clash_is_a_plan_error(tmp_path, project, images, docker_client):
    mine, theirs = free_port(), free_port()
    spec = write(tmp_path, SPEC.format(project=project, base=images.base, port=mine))
    assert cli("apply", str(spec), "-p", project).code == 0
    before = {c.name: (c.id, c.status) for c in docker_client.containers.list()}
    other = docker_client.containers.run(
        images.base,
        ["sleep", "100000"],
        name=f"{project}-foreign",
        ports={"80/tcp": ("127.0.0.1", theirs)},
        detach=True,
    )
    assert other.status in ("created", "running")
    write(tmp_path, SPEC.format(project=project, base=images.base, port=theirs))

    result = cli("plan", str(spec), "-p", project)
    assert result.code == 1, result
    assert (
        f"spec.yaml:9:13: containers.web.ports[0]: host port 127.0.0.1:{theirs}/tcp is "
        f"already published by container {project}-foreign, which this project does not own "
        "(stop that container, or choose another host port)"
    ) in result.err, result

    result = cli("apply", str(spec), "-p", project)
    assert result.code == 1, result
    assert f"container {project}-foreign" in result.err
    after = {c.name: (c.id, c.status) for c in docker_client.containers.list()}
    mine_before = {n: v for n, v in before.items() if n.startswith(project)}
    assert {n: after.get(n) for n in mine_before} == mine_before  # nothing was stopped
