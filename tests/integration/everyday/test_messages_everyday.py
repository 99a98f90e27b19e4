"""Issue 15 (2, messages): plan warns about a bare image name that is not an images key
(naming the full reference, exit 0); destroy says what it kept and how to remove it."""

from __future__ import annotations

import pytest

from tests.integration.everyday.wrong_results_helpers import cli, write

pytestmark = pytest.mark.integration


def test_plan_warns_about_a_bare_name_that_will_be_pulled(tmp_path, project, images):
    spec = write(
        tmp_path,
        f"""
        version: 1
        project: {project}
        containers:
          web: {{image: made, state: stopped}}
        """,
    )
    result = cli("plan", str(spec), "-p", project)
    assert result.code == 0, result
    assert (
        "containers.web.image: 'made' is not an images key: it will be pulled from the default "
        "registry as docker.io/library/made:latest"
    ) in result.out, result


def test_destroy_says_which_volumes_and_images_it_kept(tmp_path, project, images, docker_client):
    # `destroy --images` untags what the spec pulled: a reference of this test's own, never
    # the seeded image every other test runs (untagging it broke the rest of the suite)
    base = f"{project}/base:1"
    docker_client.images.get(images.base).tag(base)
    spec = write(
        tmp_path,
        f"""
        version: 1
        project: {project}
        images:
          base: {{pull: "{base}", policy: never}}
          tool:
            commit: {{from: base, run: ["touch /made"]}}
        volumes:
          data: {{}}
        containers:
          app:
            image: tool
            command: ["sleep", "100000"]
            volumes: ["data:/data"]
        """,
    )
    result = cli("apply", str(spec), "-p", project)
    assert result.code == 0, result
    result = cli("destroy", str(spec), "-p", project)
    assert result.code == 0, result
    assert f"note: kept 1 volume: {project}_data (destroy --volumes removes it)" in result.out
    assert (
        "note: kept 1 image the project built or committed (destroy --images removes it, "
        "and untags the images it pulled)"
    ) in result.out, result
    result = cli("destroy", str(spec), "-p", project, "--volumes", "--images", "--yes")
    assert result.code == 0, result
    assert "note: kept" not in result.out, result
    assert docker_client.images.list(name=base) == []  # the test's own reference: untagged
    assert docker_client.images.get(images.base)  # the seeded image stays
