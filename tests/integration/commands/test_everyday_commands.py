"""The everyday commands against the real engine (issue 15, "Commands users reached for"):
destroy/status by labels without a spec, ps, images, apply/restart/pull/build on a subset,
build --no-cache, diff, exec without a command, destroy --volumes confirmation, and progress
lines when the output is not a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_apply import ROOT, cli, containers, states, write

LABEL = "io.reconciler.project"


def spec_with(tmp_path: Path, project: str, images, extra: str = "") -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(f"FROM {images.base}\nRUN echo made > /made\n")
    return write(
        tmp_path,
        f"""
        version: 1
        project: {project}
        images:
          app:
            build:
              context: ./ctx
        volumes:
          data: {{}}
        containers:
          db:
            image: {images.base}
            command: ["sleep", "3600"]
            stop_timeout: 1
            volumes: ["data:/data"]
          web:
            image: app
            command: ["sleep", "3600"]
            stop_timeout: 1
            depends_on: [db]
          other:
            image: {images.base}
            command: ["sleep", "3600"]
            stop_timeout: 1
        {extra}
        """,
    )


def owned(client, project: str, kind: str) -> list:
    listing = {"volume": client.volumes.list, "network": client.networks.list}[kind]
    return listing(filters={"label": f"{LABEL}={project}"})


def test_destroy_and_status_by_labels_when_the_spec_is_gone(
    tmp_path, project, images, docker_client
):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec)).code == 0
    spec.unlink()  # the spec is gone: the user must still be able to see and clean up

    status = cli("status", "-p", project, "-o", "json")
    assert status.code == 0, status
    body = json.loads(status.out)
    assert {r["container"] for r in body["containers"]} == {
        f"{project}-db-1",
        f"{project}-web-1",
        f"{project}-other-1",
    }
    assert body["volumes"] == [f"{project}_data"] and body["spec"] is None
    text = cli("status", "-p", project)
    assert "from its labels" in text.out and f"{project}-web-1" in text.out

    destroyed = cli("destroy", "-p", project, "--volumes", "--images", "--yes")
    assert destroyed.code == 0, destroyed
    assert containers(docker_client, project) == {}
    assert owned(docker_client, project, "volume") == []
    assert owned(docker_client, project, "network") == []
    assert docker_client.images.list(filters={"label": f"{LABEL}={project}"}) == []


def test_destroy_by_labels_when_the_spec_is_broken(
    tmp_path, project, images, docker_client, monkeypatch
):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec), "db").code == 0
    spec.write_text("version: 1\ncontainers: [\n")
    refused = cli("destroy", str(spec), "-p", project)
    assert refused.code == 1 and f"reconciler destroy -p {project}" in refused.err
    assert containers(docker_client, project) != {}  # invalid input changes nothing
    # A broken spec found by default in the folder does not stand in the way of -p.
    (tmp_path / "reconciler.yaml").write_text("version: 1\ncontainers: [\n")
    monkeypatch.chdir(tmp_path)
    status = cli("status", "-p", project, "-o", "json")
    assert status.code == 0, status
    assert "cannot be read" in status.err and json.loads(status.out)["spec"] is None
    assert cli("destroy", "-p", project).code == 0
    assert containers(docker_client, project) == {}
    assert [v.name for v in owned(docker_client, project, "volume")] == [f"{project}_data"]


def test_ps_lists_stopped_containers_too(tmp_path, project, images, docker_client):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec), "other").code == 0
    docker_client.containers.get(f"{project}-other-1").stop(timeout=1)
    text = cli("ps", str(spec))
    assert text.code == 0, text
    assert f"{project}-other-1" in text.out and "exited" in text.out
    rows = json.loads(cli("ps", "-p", project, "-o", "json").out)["containers"]
    assert [(r["container"], r["state"]) for r in rows] == [(f"{project}-other-1", "exited")]


def test_apply_a_subset_creates_only_those_containers_and_what_they_need(
    tmp_path, project, images, docker_client
):
    spec = spec_with(tmp_path, project, images)
    result = cli("apply", str(spec), "web")
    assert result.code == 0, result
    assert states(docker_client, project) == {
        f"{project}-db-1": "running",
        f"{project}-web-1": "running",
    }
    unknown = cli("apply", str(spec), "nope")
    assert unknown.code == 1 and "no container 'nope' in the spec" in unknown.err
    assert cli("apply", str(spec)).code == 0
    assert f"{project}-other-1" in states(docker_client, project)


def test_images_lists_the_project_images_and_those_held_for_others(
    tmp_path, project, images, docker_client
):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec), "web").code == 0
    built = f"{project}/app:latest"
    docker_client.containers.run(built, ["sleep", "600"], name=f"{project}-foreign", detach=True)
    body = json.loads(cli("images", str(spec), "-o", "json").out)
    rows = {r["tags"][0]: r for r in body["images"]}
    assert rows[built]["made"] and rows[built]["used_by"] == [f"{project}-web-1"]
    assert rows[built]["held_for"] == [f"{project}-foreign"]
    status = json.loads(cli("status", str(spec), "-o", "json").out)
    assert [r["tags"] for r in status["held_for_others"]] == [[built]]
    text = cli("status", str(spec))
    assert "images held for containers of others" in text.out


def test_restart_keeps_the_container_and_starts_it_again(tmp_path, project, images, docker_client):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec), "other").code == 0
    before = docker_client.api.inspect_container(f"{project}-other-1")
    result = cli("restart", str(spec), "other", "-o", "json")
    assert result.code == 0, result
    assert [e["event"] for e in result.json_lines()] == ["done"]
    after = docker_client.api.inspect_container(f"{project}-other-1")
    assert after["Id"] == before["Id"] and after["State"]["Running"]
    assert after["State"]["StartedAt"] != before["State"]["StartedAt"]


def test_pull_pulls_present_images_again_and_touches_no_container(
    tmp_path, project, images, docker_client
):
    spec = write(
        tmp_path,
        f"""
        version: 1
        project: {project}
        containers:
          one:
            image: {images.v1}
            command: ["sleep", "3600"]
        """,
    )
    result = cli("pull", str(spec), "one", "-o", "json")
    assert result.code == 0, result
    events = result.json_lines()
    ends = ("done", "unchanged")  # unchanged: present already, and the same image ID
    assert [(e["event"], e["address"]) for e in events if e["event"] in ("begin", *ends)] == [
        ("begin", f"image.{images.v1}"),
        (next(e["event"] for e in events if e["event"] in ends), f"image.{images.v1}"),
    ]
    assert not [e for e in events if e["event"] == "failed"]
    again = cli("pull", str(spec), "-o", "json")  # present now: pulled again anyway
    assert any(e.get("action") == "pull" for e in again.json_lines() if e["event"] == "begin")
    assert containers(docker_client, project) == {}


def test_build_no_cache_rebuilds_an_up_to_date_image(tmp_path, project, images, docker_client):
    spec = spec_with(tmp_path, project, images)
    first = cli("build", str(spec), "web")
    assert first.code == 0, first
    built = docker_client.images.get(f"{project}/app:latest").id
    unchanged = cli("build", str(spec), "web")
    assert "No changes" in unchanged.out
    again = cli("build", str(spec), "web", "--no-cache", "-o", "json")
    assert again.code == 0, again
    done = [e for e in again.json_lines() if e["event"] == "done"]
    assert [e["address"] for e in done] == ["image.app"]
    assert docker_client.images.get(f"{project}/app:latest").id != built
    assert containers(docker_client, project) == {}  # build touches no container


def test_diff_shows_changes_made_inside_the_container(tmp_path, project, images, docker_client):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec), "other").code == 0
    container = docker_client.containers.get(f"{project}-other-1")
    assert container.exec_run(["sh", "-c", "echo x > /tmp/made-here"]).exit_code == 0
    text = cli("diff", str(spec), "other")
    assert text.code == 0, text
    assert "A /tmp/made-here" in text.out.splitlines()
    body = json.loads(cli("diff", str(spec), "other", "-o", "json").out)
    assert {"kind": "A", "path": "/tmp/made-here"} in body["changes"]
    assert cli("diff", str(spec), "nope").code == 1


def test_exec_without_a_command_runs_the_shell(tmp_path, project, images):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec), "other").code == 0
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "exec", str(spec), "other", "-i"],
        input="echo from-the-shell; exit 7\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 7, proc
    assert "from-the-shell" in proc.stdout


def test_destroy_volumes_asks_on_a_terminal(tmp_path, project, images, docker_client, monkeypatch):
    spec = spec_with(tmp_path, project, images)
    assert cli("apply", str(spec), "db").code == 0
    monkeypatch.setattr("reconciler.commands.destroy.is_interactive", lambda: True)
    questions: list[str] = []

    def answer(text: str) -> str:
        questions.append(text)
        return "n"

    monkeypatch.setattr("builtins.input", answer)
    declined = cli("destroy", str(spec), "--volumes")
    assert declined.code == 1, declined
    assert f"  {project}_data" in declined.out and len(questions) == 1
    assert f"{project}-db-1" in containers(docker_client, project)  # nothing removed
    assert cli("destroy", str(spec), "--volumes", "--yes").code == 0
    assert len(questions) == 1
    assert owned(docker_client, project, "volume") == []


def test_progress_lines_when_output_is_not_a_terminal(tmp_path, project, images):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {images.base}\nRUN sleep 2\n")
    spec = write(
        tmp_path,
        f"""
        version: 1
        project: {project}
        images:
          slow:
            build:
              context: ./ctx
        """,
    )
    env = {**os.environ, "RECONCILER_PROGRESS_INTERVAL": "0.05", "NO_COLOR": "1"}
    for output in ("json", "text"):
        proc = subprocess.run(
            [sys.executable, "-m", "reconciler", "build", str(spec), "--no-cache", "-o", output],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env=env,
        )
        assert proc.returncode == 0, proc
        if output == "json":
            events = [json.loads(line) for line in proc.stdout.splitlines()]
            kinds = [e["event"] for e in events]
            assert kinds.index("begin") < kinds.index("progress-summary") < kinds.index("done")
            beat = next(e for e in events if e["event"] == "progress-summary")
            assert beat["address"] == "image.slow" and beat["action"] == "build"
        else:
            lines = proc.stdout.splitlines()
            assert any(line.startswith("  … image.slow") and "build:" in line for line in lines)
            assert "Build complete" in proc.stdout


@pytest.fixture(autouse=True)
def _no_terminal_answers(monkeypatch):
    """A test that forgets to answer must not hang on input()."""
    monkeypatch.setattr("builtins.input", lambda _text="": "")
