"""kill -9 of apply at points of a replacement, found by watching the engine (no hooks into
the code under test): before the stop (the apply holds its lease), between the rename and the
create (the old container is aside, no new one yet), during the health wait (the new one is
starting), during the exec hooks (the new one has an exec running). After each kill, one apply
must converge: exit 0, then no changes, no container aside or pending, the hooks ran in the
container in force, and the volume's data is intact."""

from __future__ import annotations

import os
import signal
import threading

import docker.errors
import pytest

from tests.faults.harness import kill9, poll, run, start

SPEC = """\
version: 1
project: {project}
containers:
  web:
    image: {image}
    init: true
    command: ["sh", "-c", "sleep 1.5; touch /tmp/ready; exec sleep 100000"]
    env: {{GEN: "{gen}"}}
    stop_timeout: 1s
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      retries: 30
    exec:
      - ["sh", "-c", "echo {gen} >> /data/hooks.log; touch /tmp/hooked; sleep 1.5"]
volumes:
  data: {{}}
"""

POINTS = ("before-stop", "after-rename", "health-wait", "hooks")


def _write(tmp_path, project: str, image: str, gen: int) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(project=project, image=image, gen=gen))
    return str(path)


def _containers(client, project: str) -> list:
    try:
        found = client.containers.list(all=True, filters={"name": f"^/?{project}-web-1"})
    except docker.errors.NotFound:  # one went away while listed
        return []
    return [c for c in found if c.name.startswith(f"{project}-web-1")]


def _kill_on_rename(stream, project: str, proc) -> threading.Event:
    """SIGKILL `proc` as soon as `stream` (the engine's container events, opened before `proc`
    started) reports the project's container renamed aside; the event is set once it is sent."""
    killed = threading.Event()

    def watch() -> None:
        try:
            for event in stream:
                name = event.get("Actor", {}).get("Attributes", {}).get("name", "")
                if event.get("Action") == "rename" and name.startswith(f"{project}-web-1--old-"):
                    os.kill(proc.pid, signal.SIGKILL)
                    killed.set()
                    return
        except Exception:  # the stream closed by the test
            return

    threading.Thread(target=watch, daemon=True).start()
    return killed


def _reached(point: str, client, project: str):
    """A predicate: has the running apply reached `point`? (observed on the engine)"""
    name = f"{project}-web-1"

    def check() -> bool:
        if point == "before-stop":
            # the low-level list: containers.list() inspects each one it found, and the lease
            # may be gone by then (404) — seen once in a fresh-clone CI run
            lease = {"name": f"reconciler-lock-{project}"}
            return bool(client.api.containers(all=True, filters=lease))
        found = _containers(client, project)
        aside = [c for c in found if "--old-" in c.name]
        new = [c for c in found if c.name != name and "--old-" not in c.name]
        if point == "after-rename":  # aside, and the new one not created or not started yet
            return bool(aside) and all(c.status == "created" for c in new)
        for c in new:
            try:
                c.reload()
            except docker.errors.NotFound:
                continue
            state = c.attrs["State"]
            if point == "health-wait" and (state.get("Health") or {}).get("Status") == "starting":
                return True
            if point == "hooks" and c.attrs.get("ExecIDs"):
                return True
        return False

    return check


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_during_a_replacement_then_one_apply_converges(
    tmp_path, project, images, docker_client, point
):
    spec = _write(tmp_path, project, images.base, 1)
    code, out, err = run("apply", spec)
    assert code == 0, err
    docker_client.containers.get(f"{project}-web-1").exec_run(
        ["sh", "-c", "echo precious > /data/keep"]
    )
    spec = _write(tmp_path, project, images.base, 2)
    if point == "after-rename":
        stream = docker_client.events(decode=True, filters={"type": "container", "event": "rename"})
        proc = start("apply", spec)
        killed = _kill_on_rename(stream, project, proc)
        reached = killed.wait(timeout=60)
        stream.close()
        kill9(proc)
        assert reached, "the apply never renamed the old container aside"
        # killed on the rename: the old one is aside and no new one runs
        assert _reached(point, docker_client, project)(), "the kill came after the new one started"
    else:
        proc = start("apply", spec)
        reached = poll(_reached(point, docker_client, project), deadline_s=60, interval=0.01)
        kill9(proc)
        assert reached, f"the apply never reached {point}"

    code, out, err = run("apply", spec)
    assert code == 0, f"recovery apply: {out}\n{err}"
    code, out, err = run("plan", spec, "--detailed-exitcode")
    assert code == 0, f"not converged: {out}\n{err}"
    names = sorted(c.name for c in _containers(docker_client, project))
    assert names == [f"{project}-web-1"], names  # nothing aside, nothing pending
    web = docker_client.containers.get(f"{project}-web-1")
    assert web.status == "running"
    assert web.exec_run(["test", "-f", "/tmp/hooked"]).exit_code == 0  # its hooks ran
    assert web.exec_run(["cat", "/data/keep"]).output.decode().strip() == "precious"
    assert "2" in web.exec_run(["cat", "/data/hooks.log"]).output.decode().split()
