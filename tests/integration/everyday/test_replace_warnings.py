"""Issue 15 (3): replacing an `init: true` container warns about data loss only for changes
made inside the container, not for what the engine put there (init binary, /etc/hosts, mount
points)."""

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
  app:
    image: base
    init: true
    command: ["sleep", "100000"]
    volumes: ["/anon", "data:/data"]
    env: {{V: "{v}"}}
"""


def test_init_container_replacement_warns_only_for_user_changes(
    tmp_path, project, images, docker_client
):
    spec = write(tmp_path, SPEC.format(project=project, base=images.base, v="1"))
    assert cli("apply", str(spec), "-p", project).code == 0
    write(tmp_path, SPEC.format(project=project, base=images.base, v="2"))
    result = cli("plan", str(spec), "-p", project)
    assert result.code == 0, result
    assert "replace" in result.out
    assert "discards" not in result.out, result  # /sbin, /sbin/docker-init, /anon, /data
    (container,) = docker_client.containers.list(
        filters={"label": f"io.reconciler.project={project}"}
    )
    assert container.exec_run(["touch", "/tmp/mine"]).exit_code == 0
    result = cli("plan", str(spec), "-p", project)
    assert (
        "replacing discards 2 change(s) made inside the container's filesystem: /tmp, /tmp/mine"
        in result.out
    ), result
