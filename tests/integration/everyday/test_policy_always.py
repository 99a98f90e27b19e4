"""Issue 15 (4): `policy: always` reads the registry's current digest at plan time (the Engine
API's distribution inspect) and plans a pull and a replacement only when it differs from the
local image's; an unreachable registry is one line and counts as unchanged."""

from __future__ import annotations

import json

import pytest

from tests.integration.everyday.wrong_results_helpers import cli, write

pytestmark = pytest.mark.integration

SPEC = """
version: 1
project: {project}
images:
  app: {{pull: "{ref}", policy: always}}
containers:
  web:
    image: app
    command: ["sleep", "100000"]
"""


def _push(client, source: str, ref: str) -> None:
    repository, tag = ref.rsplit(":", 1)
    client.images.get(source).tag(repository, tag)
    for line in client.api.push(repository, tag=tag, stream=True, decode=True):
        assert "error" not in line, line


def test_always_pulls_only_when_the_registry_digest_changed(
    tmp_path, project, images, docker_client
):
    ref = f"{images.registry}/{project}/app:1"
    _push(docker_client, images.base, ref)
    spec = write(tmp_path, SPEC.format(project=project, ref=ref))
    result = cli("apply", str(spec), "-p", project)
    assert result.code == 0, result

    result = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert result.code == 0, result  # the registry has what we have: nothing to do
    assert "No changes" in result.out
    status = json.loads(cli("status", str(spec), "-p", project, "-o", "json").out)
    assert [r["up_to_date"] for r in status["containers"] + status["images"]] == [True, True]

    _push(docker_client, images.base2, ref)  # a new digest in the registry...
    docker_client.images.get(images.base).tag(ref.rsplit(":", 1)[0], "1")  # ...not here
    result = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert result.code == 2, result
    assert "pull" in result.out and "replace" in result.out, result

    result = cli("apply", str(spec), "-p", project)
    assert result.code == 0, result
    result = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert result.code == 0, result


def test_unreachable_registry_is_one_line_and_unchanged(tmp_path, project, images, docker_client):
    ref = f"127.0.0.1:5999/{project}/app:1"  # nothing listens there
    docker_client.images.get(images.base).tag(ref.rsplit(":", 1)[0], "1")
    spec = write(
        tmp_path,
        f"""
        version: 1
        project: {project}
        images:
          app: {{pull: "{ref}", policy: always}}
        """,
    )
    result = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert result.code == 0, result
    lines = [line for line in result.out.splitlines() if "cannot be reached" in line]
    assert len(lines) == 1, result
    assert lines[0].startswith(f"warning: image {ref}: the registry cannot be reached"), result
    assert "pull" not in result.out
