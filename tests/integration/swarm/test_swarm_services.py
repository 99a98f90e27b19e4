"""target swarm on a real single-node Swarm (the local engine, made a manager by the
`swarm_manager` fixture): apply twice with zero mutating calls, scale, an env change that
rolls, a failing update rolled back while the old task keeps serving, a built image pushed to
the loopback registry and run by digest, destroy leaving foreign services alone.

Ports are published in `mode: host` and services use `endpoint_mode: dnsrr`: this kernel has
no IPVS, so the ingress routing mesh and VIPs never answer here (docs/swarm.md).
"""

from __future__ import annotations

import contextlib
import textwrap
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine import Engine
from reconciler.errors import PlanError
from reconciler.execute.context import ExecOptions
from reconciler.execute.outcome import Status
from reconciler.load.loader import load_spec
from reconciler.model.labels import LABEL_PROJECT
from reconciler.reconcile import apply_pass, destroy_options, destroy_pass
from tests.polling import wait_for

IMAGE = "localhost:5000/stand-in/busybox:1"


def spec_file(tmp_path: Path, project: str, body: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    head = f"version: 1\nproject: {project}\ntarget: swarm\nregistry: localhost:5000\n"
    path.write_text(head + textwrap.dedent(body).lstrip())
    return path


def web(replicas: int = 1, env: str = "one", extra: str = "") -> str:
    extra = textwrap.indent(textwrap.dedent(extra).strip("\n"), " " * 8)
    return f"""
    containers:
      web:
        image: {IMAGE}
        command: ["sh", "-c", "echo $$VERSION > /www/v.txt; exec httpd -f -p 8080 -h /www"]
        replicas: {replicas}
        env: {{VERSION: "{env}"}}
        endpoint_mode: dnsrr
        ports:
          - {{container: 8080, mode: host}}
{extra}
    """


@contextlib.contextmanager
def mutations() -> Iterator[list[str]]:
    """The mutating requests (not GET/HEAD) sent meanwhile, except the project lock's lease
    (a stopped container `reconciler-lock-<project>`, issue 16). Swarm emits service update
    events by itself, so the requests are counted, not the events."""
    import requests

    seen: list[str] = []
    send = requests.Session.send

    def counting(self, request, **kwargs):
        lease = "reconciler-lock-" in request.url or (
            request.method == "DELETE" and "/containers/" in request.url
        )
        if request.method not in ("GET", "HEAD") and not lease:
            seen.append(f"{request.method} {request.url}")
        return send(self, request, **kwargs)

    requests.Session.send = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        requests.Session.send = send  # type: ignore[method-assign]


def apply(path: Path, engine: Engine, timeout: float = 120.0):
    return apply_pass(load_spec(path), engine, exec_options=ExecOptions(wait_timeout=timeout))


def service(client, project: str, key: str = "web"):
    return client.services.get(f"{project}_{key}")


def running(client, project: str, key: str = "web") -> list[dict]:
    tasks = service(client, project, key).tasks(filters={"desired-state": "running"})
    return [t for t in tasks if t["Status"]["State"] == "running"]


def host_port(client, task: dict) -> int:
    cid = task["Status"]["ContainerStatus"]["ContainerID"]
    ports = client.api.inspect_container(cid)["NetworkSettings"]["Ports"]["8080/tcp"]
    return int(ports[0]["HostPort"])


def fetch(port: int, path: str = "/v.txt") -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def test_apply_twice_scale_and_env_change(tmp_path, swarm_project, docker_client):
    project = swarm_project
    with Engine.connect() as engine:
        result = apply(spec_file(tmp_path, project, web(2)), engine)
        assert not result.failed, result.outcomes
        assert len(running(docker_client, project)) == 2
        pinned = service(docker_client, project).attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
        assert pinned["Image"].startswith(IMAGE + "@sha256:")

        with mutations() as sent:
            again = apply(spec_file(tmp_path, project, web(2)), engine)
        assert not again.plan.has_changes
        assert sent == []  # a no-op apply changes nothing on the Swarm

        for replicas in (3, 1, 0, 2):
            result = apply(spec_file(tmp_path, project, web(replicas)), engine)
            assert [c.name for c in result.plan.actionable] == ["scale-service"]
            assert not result.failed, result.outcomes
            assert len(running(docker_client, project)) == replicas

        old = {t["ID"] for t in running(docker_client, project)}
        result = apply(spec_file(tmp_path, project, web(2, env="two")), engine)
        assert [c.name for c in result.plan.actionable] == ["update-service"]
        assert [d.path for d in result.plan.actionable[0].diffs] == ["env.VERSION"]
        assert not result.failed, result.outcomes
        tasks = running(docker_client, project)
        assert len(tasks) == 2 and not old & {t["ID"] for t in tasks}  # rolled: new tasks
        assert {fetch(host_port(docker_client, t)) for t in tasks} == {"two"}


def test_failing_update_rolls_back_while_the_old_task_serves(
    tmp_path, swarm_project, docker_client
):
    project = swarm_project
    with Engine.connect() as engine:
        assert not apply(spec_file(tmp_path, project, web(1)), engine).failed
        [task] = running(docker_client, project)
        port = host_port(docker_client, task)  # host mode, no fixed port: start-first works
        wait_for(lambda: fetch(port) == "one", 20, "the first version to answer")

        answers: list[str | None] = []
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                answers.append(fetch(port))
                done.wait(0.1)

        failing = """
            healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
            update: {monitor: 3s}
        """
        poller = threading.Thread(target=poll)
        poller.start()
        try:
            result = apply(spec_file(tmp_path, project, web(1, "two", failing)), engine)
        finally:
            done.set()
            poller.join()
        [outcome] = result.failed
        assert "rolled back" in outcome.message and "unhealthy" in outcome.message
        assert answers and set(answers) == {"one"}  # the old task served all along
        [after] = running(docker_client, project)
        assert after["ID"] == task["ID"]
        updated = service(docker_client, project).attrs["UpdateStatus"]
        assert updated["State"] == "rollback_completed"


def test_cli_exit_code_of_a_rolled_back_update(tmp_path, swarm_project):
    from tests.integration.test_apply import cli_process

    project = swarm_project
    path = spec_file(tmp_path, project, web(1))
    assert cli_process("apply", str(path)).code == 0
    failing = """
        healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
        update: {monitor: 2s}
    """
    path = spec_file(tmp_path, project, web(1, "two", failing))
    result = cli_process("apply", str(path))
    assert result.code == 1, result
    assert "rolled back" in result.out + result.err


def test_built_image_is_pushed_and_run_by_digest(tmp_path, swarm_project, docker_client):
    project = swarm_project
    (tmp_path / "Dockerfile").write_text(
        f"FROM stand-in/busybox:latest\nRUN echo built-{project} > /www/b.txt\n"
    )
    body = """
    images:
      app:
        build: .
    containers:
      app:
        image: app
        command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
        endpoint_mode: dnsrr
        ports:
          - {container: 8080, mode: host}
    """
    with Engine.connect() as engine:
        result = apply(spec_file(tmp_path, project, body), engine)
        assert not result.failed, result.outcomes
        spec = service(docker_client, project, "app").attrs["Spec"]
        image = spec["TaskTemplate"]["ContainerSpec"]["Image"]
        assert image.startswith(f"localhost:5000/{project}/app:latest@sha256:")
        digest = image.split("@", 1)[1]
        repo_digests = docker_client.images.get(f"localhost:5000/{project}/app:latest").attrs
        assert f"localhost:5000/{project}/app@{digest}" in repo_digests["RepoDigests"]
        [task] = running(docker_client, project, "app")
        port = host_port(docker_client, task)
        wait_for(lambda: fetch(port, "/b.txt") == f"built-{project}", 20, "the built image")
        with mutations() as sent:
            again = apply(spec_file(tmp_path, project, body), engine)
        assert not again.plan.has_changes, [(c.reason, c.diffs) for c in again.plan.actionable]
        assert sent == []
    for tag in (f"localhost:5000/{project}/app:latest",):
        docker_client.images.remove(tag, force=True)


def test_destroy_leaves_foreign_services(tmp_path, swarm_project, docker_client):
    project = swarm_project
    foreign = docker_client.services.create(
        IMAGE,
        ["sleep", "600"],
        name=f"{project}-foreign",
        labels={LABEL_PROJECT: f"{project}x"},
    )
    try:
        with Engine.connect() as engine:
            path = spec_file(tmp_path, project, web(1))
            assert not apply(path, engine).failed
            spec = load_spec(path)
            result = destroy_pass(spec, engine, destroy_options(spec))
            assert {o.status for o in result.outcomes} == {Status.DONE}
            assert sorted(c.name for c in result.plan.changes) == [
                "remove-network",
                "remove-service",
            ]
        names = {s.name for s in docker_client.services.list()}
        assert f"{project}_web" not in names and foreign.name in names
    finally:
        foreign.remove()


def test_a_foreign_service_name_is_a_plan_error(tmp_path, swarm_project, docker_client):
    project = swarm_project
    foreign = docker_client.services.create(IMAGE, ["sleep", "600"], name=f"{project}_web")
    try:
        with Engine.connect() as engine, pytest.raises(PlanError) as err:
            apply(spec_file(tmp_path, project, web(1)), engine)
        assert "does not own" in str(err.value)
    finally:
        foreign.remove()
