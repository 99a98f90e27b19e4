"""Images against the real engine and the loopback registry, through the CLI (in-process):
pull policies without phantom replacements, builds that rebuild only on change, commit
recipes, and removal only after every container that uses an image.

Images pushed here live under localhost:5000/<project>/... (never the stand-in tags); every
local image and container is labelled with the project or named after it and removed by the
`project` fixture. No host port is published."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import cli as run_cli

pytestmark = pytest.mark.integration

# PID 1 that exits at once on SIGTERM (busybox sleep as PID 1 ignores it)
IDLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.startswith("{")]


def cli(*args: str) -> Result:
    return Result(*run_cli(*args))


def write_spec(path: Path, project: str, body: str) -> Path:
    path.write_text(f"version: 1\nproject: {project}\n" + textwrap.dedent(body))
    return path


def apply_ok(spec: Path, project: str, *extra: str) -> Result:
    result = cli("apply", str(spec), "-p", project, *extra)
    assert result.code == 0, result
    return result


def plan_code(spec: Path, project: str) -> Result:
    return cli("plan", str(spec), "-p", project, "--detailed-exitcode")


def cid(client, name: str) -> str:
    return client.containers.get(name).id


def image_or_none(client, ref: str):
    import docker.errors

    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def unique_image(client, project: str, tag: str) -> str:
    """A small image of its own ID (a label on the stand-in base), tagged `tag`."""
    dockerfile = f"FROM stand-in/busybox:latest\nLABEL test.content={project}-{tag}\n"
    repo = f"{project}/content"
    stream = client.api.build(
        fileobj=io.BytesIO(dockerfile.encode()),
        tag=f"{repo}:{tag}",
        rm=True,
        pull=False,
        decode=True,
    )
    for event in stream:
        assert "error" not in event, event
    return f"{repo}:{tag}"


def push(client, source: str, ref: str) -> None:
    repository, tag = ref.rsplit(":", 1)
    client.images.get(source).tag(repository, tag)
    for event in client.api.push(repository, tag=tag, stream=True, decode=True):
        assert "error" not in event, event


def sdk_labels(client, ref: str) -> dict[str, str]:
    return client.images.get(ref).attrs["Config"].get("Labels") or {}


# --- pull -----------------------------------------------------------------------------------------


def test_pull_always_replaces_exactly_the_containers_of_a_changed_image(
    tmp_path, docker_client, images, project
):
    ref = f"localhost:5000/{project}/app:1"
    v1 = unique_image(docker_client, project, "v1")
    v2 = unique_image(docker_client, project, "v2")
    push(docker_client, v1, ref)
    spec = write_spec(
        tmp_path / "spec.yaml",
        project,
        f"""
        images:
          app:
            pull: {ref}
            policy: always
          tool:
            commit:
              from: app
              run: ["echo made > /made"]
        containers:
          a: {{image: app, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
          t: {{image: tool, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
          b: {{image: {images.base}, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
        """,
    )
    apply_ok(spec, project)
    names = [f"{project}-{k}-1" for k in "atb"]
    before = {n: cid(docker_client, n) for n in names}
    tool_before = docker_client.images.get(f"{project}/tool:latest").id

    # new content under the same tag in the registry; the local copy stays the old one
    push(docker_client, v2, ref)
    docker_client.images.get(v1).tag(*ref.rsplit(":", 1))
    changed = apply_ok(spec, project, "-o", "json")
    after = {n: cid(docker_client, n) for n in names}
    assert after[names[0]] != before[names[0]]  # a: its image changed
    assert after[names[1]] != before[names[1]]  # t: its base changed, recommitted
    assert after[names[2]] == before[names[2]]  # b: untouched
    assert docker_client.images.get(f"{project}/tool:latest").id != tool_before
    assert docker_client.images.get(ref).id == docker_client.images.get(v2).id
    done = {e["address"] for e in changed.events() if e.get("event") == "done"}
    assert {"image.app", "image.tool", "container.a[1]", "container.t[1]"} <= done

    again = apply_ok(spec, project, "-o", "json")
    assert {n: cid(docker_client, n) for n in names} == after  # no phantom replacement
    statuses = {e["address"]: e["event"] for e in again.events() if e.get("address")}
    # the registry's digest is the local image's: nothing is pulled, committed or replaced
    # (issue 15: `policy: always` compares digests at plan time); were the registry out of
    # reach, the pull would run and find the same ID: `unchanged`
    assert all(s == "unchanged" for s in statuses.values()), statuses

    # destroy --images: the own image goes, the pulled reference is untagged
    destroyed = cli("destroy", str(spec), "-p", project, "--images")
    assert destroyed.code == 0, destroyed
    assert image_or_none(docker_client, f"{project}/tool:latest") is None
    assert image_or_none(docker_client, ref) is None
    assert image_or_none(docker_client, images.base) is not None  # used directly: kept


def test_policy_never_and_missing_tag_are_clear_errors(tmp_path, docker_client, images, project):
    never = write_spec(
        tmp_path / "never.yaml",
        project,
        f"""
        images:
          gone:
            pull: localhost:5000/{project}/gone:1
            policy: never
        containers:
          x: {{image: gone, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
        """,
    )
    result = cli("apply", str(never), "-p", project)
    assert result.code == 1, result
    assert "never.yaml:5:" in result.err and "images.gone.policy" in result.err
    assert f"localhost:5000/{project}/gone:1 is not present locally" in result.err
    assert docker_client.containers.list(all=True, filters={"name": project}) == []

    missing = write_spec(
        tmp_path / "missing.yaml",
        project,
        f"""
        images:
          nope:
            pull: localhost:5000/{project}/nope:1
        containers:
          x: {{image: nope, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
          y: {{image: {images.base}, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
        """,
    )
    result = cli("apply", str(missing), "-p", project)
    assert result.code == 1, result
    assert f"cannot pull localhost:5000/{project}/nope:1: no such image or tag" in result.err
    assert "container.x[1]" in result.out and "skipped" in result.out
    assert docker_client.containers.get(f"{project}-y-1").status == "running"  # independent
    with pytest.raises(Exception, match="No such container"):
        docker_client.containers.get(f"{project}-x-1")


# --- build ----------------------------------------------------------------------------------------


DOCKERFILE = """\
FROM stand-in/busybox:latest
ARG GREETING=hello
RUN echo "$GREETING" > /greeting
COPY site/ /www/
CMD ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
"""


def exec_out(client, name: str, *cmd: str) -> str:
    code, output = client.containers.get(name).exec_run(list(cmd))
    assert code == 0, output
    return output.decode().strip()


def test_build_rebuilds_only_on_change_and_reports_a_failing_step(
    tmp_path, docker_client, images, project
):
    ctx = tmp_path / "ctx"
    (ctx / "site").mkdir(parents=True)
    (ctx / "notes").mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / ".dockerignore").write_text("notes/\n")
    (ctx / "site" / "index.html").write_text("v1\n")
    (ctx / "notes" / "todo.txt").write_text("excluded\n")
    body = """
        images:
          web:
            build:
              context: ctx
              builder: classic  # its step numbers (tests/integration/build: BuildKit's)
              args: {{GREETING: {greeting}}}
        containers:
          c: {{image: web, stop_timeout: 1s}}
        """
    spec = write_spec(tmp_path / "spec.yaml", project, body.format(greeting="hi"))
    name, tag = f"{project}-c-1", f"{project}/web:latest"

    apply_ok(spec, project)
    assert exec_out(docker_client, name, "cat", "/www/index.html") == "v1"
    assert exec_out(docker_client, name, "cat", "/greeting") == "hi"
    labels = sdk_labels(docker_client, tag)
    assert labels["io.reconciler.project"] == project and labels["io.reconciler.name"] == "web"
    assert len(labels["io.reconciler.source-hash"]) == 64
    first = cid(docker_client, name), docker_client.images.get(tag).id

    assert plan_code(spec, project).code == 0  # second pass: no rebuild
    (ctx / "notes" / "todo.txt").write_text("edited, but excluded\n")
    assert plan_code(spec, project).code == 0

    (ctx / "site" / "index.html").write_text("v2\n")
    planned = plan_code(spec, project)
    assert planned.code == 2 and "source changed: site/index.html" in planned.out, planned
    apply_ok(spec, project)
    assert exec_out(docker_client, name, "cat", "/www/index.html") == "v2"
    second = cid(docker_client, name), docker_client.images.get(tag).id
    assert second[0] != first[0] and second[1] != first[1]
    assert image_or_none(docker_client, first[1]) is None  # the superseded build is removed

    spec = write_spec(tmp_path / "spec.yaml", project, body.format(greeting="bye"))
    planned = plan_code(spec, project)
    assert planned.code == 2 and "build args changed" in planned.out, planned
    apply_ok(spec, project)
    assert exec_out(docker_client, name, "cat", "/greeting") == "bye"
    third = cid(docker_client, name), docker_client.images.get(tag).id
    assert third[0] != second[0]

    (ctx / "Dockerfile").write_text(DOCKERFILE + 'RUN echo "boom-output" && exit 3\n')
    failed = cli("apply", str(spec), "-p", project)
    assert failed.code == 1, failed
    assert "failed at step 6/" in failed.err and 'RUN echo "boom-output" && exit 3' in failed.err
    assert "| boom-output" in failed.err and "non-zero code: 3" in failed.err
    assert (cid(docker_client, name), docker_client.images.get(tag).id) == third  # untouched


# --- commit ---------------------------------------------------------------------------------------


def test_commit_recipe_makes_the_image_and_never_leaves_its_work_container(
    tmp_path, docker_client, images, project
):
    body = """
        images:
          tool:
            commit:
              from: {base}
              run:
                - mkdir -p /app/bin
                - echo 1.0 > /app/VERSION
                {extra}
              changes:
                env: {{MODE: demo}}
                workdir: /app
                expose: [8080]
                cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
        containers:
          c: {{image: tool, stop_timeout: 1s}}
        """
    spec = write_spec(tmp_path / "spec.yaml", project, body.format(base=images.base, extra=""))
    apply_ok(spec, project)
    tag, name = f"{project}/tool:latest", f"{project}-c-1"
    config = docker_client.images.get(tag).attrs["Config"]
    assert "MODE=demo" in config["Env"]
    assert config["WorkingDir"] == "/app"
    assert "8080/tcp" in config["ExposedPorts"]
    assert config["Cmd"] == ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    assert not config.get("Entrypoint")  # nothing of the work container leaked
    assert config["Labels"]["io.reconciler.name"] == "tool"
    assert exec_out(docker_client, name, "cat", "VERSION") == "1.0"  # in the workdir
    work = f"{project}--commit--tool"
    assert docker_client.containers.list(all=True, filters={"name": work}) == []
    assert plan_code(spec, project).code == 0
    before = cid(docker_client, name), docker_client.images.get(tag).id

    failing = '- echo "step-output" && exit 7'
    spec = write_spec(tmp_path / "spec.yaml", project, body.format(base=images.base, extra=failing))
    result = cli("apply", str(spec), "-p", project)
    assert result.code == 1, result
    assert "step 3/3" in result.err and "exited with code 7" in result.err
    assert "| step-output" in result.err
    assert docker_client.containers.list(all=True, filters={"name": work}) == []
    assert (cid(docker_client, name), docker_client.images.get(tag).id) == before


# --- removal --------------------------------------------------------------------------------------


def test_image_leaving_the_spec_goes_after_its_containers_unless_another_uses_it(
    tmp_path, docker_client, images, project
):
    spec = write_spec(
        tmp_path / "spec.yaml",
        project,
        f"""
        images:
          gone:
            commit: {{from: {images.base}, run: ["echo gone > /which"]}}
          kept:
            commit: {{from: {images.base}, run: ["echo kept > /which"]}}
        containers:
          c: {{image: gone, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
          d: {{image: kept, command: {json.dumps(IDLE)}, stop_timeout: 1s}}
        """,
    )
    apply_ok(spec, project)
    kept_id = docker_client.images.get(f"{project}/kept:latest").id
    gone_id = docker_client.images.get(f"{project}/gone:latest").id
    # a container this project does not own (no labels) runs the `kept` image
    docker_client.containers.create(kept_id, IDLE, name=f"{project}-unmanaged")

    empty = write_spec(tmp_path / "spec.yaml", project, "containers: {}\n")
    result = apply_ok(empty, project, "-o", "json")
    events = result.events()
    order = [(e.get("event"), e.get("address", "")) for e in events]
    removed_c = order.index(("done", "container.c[1]"))
    image_begin = next(
        i
        for i, (kind, addr) in enumerate(order)
        if kind == "begin" and addr.startswith("image.gone@")
    )
    assert removed_c < image_begin  # the container first, then its image
    assert image_or_none(docker_client, gone_id) is None
    assert image_or_none(docker_client, kept_id) is not None
    plan_event = next(e for e in events if e.get("event") == "plan")
    assert any(f"{project}-unmanaged" in w and "kept" in w for w in plan_event["warnings"])
    assert not any(a.startswith("image.kept@") for _, a in order)
    # still kept on the next pass, with nothing to do
    again = plan_code(empty, project)
    assert again.code == 0 and f"{project}-unmanaged" in again.out
