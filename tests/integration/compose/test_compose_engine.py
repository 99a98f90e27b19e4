"""A Compose file applied to the real engine (stand-in images only): the project comes up as
`docker compose up -d` would bring it (override file merged, build with the default tag,
healthy dependency, named volume, env list), a second apply changes nothing, found by default
discovery from the folder too, and the spec v1 that `convert` writes plans no change."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.integration.test_apply import cli, free_port

COMPOSE = """
name: ignored-by-p
services:
  web:
    image: localhost:5000/stand-in/busybox:1
    command: ["httpd", "-f", "-p", "8080"]
    ports: ["127.0.0.1:{port}:8080"]
    environment:
      - MODE=${{MODE:-production}}
    depends_on:
      db:
        condition: service_healthy
  db:
    image: localhost:5000/stand-in/busybox:1
    command: sleep 100000
    volumes: [data:/var/lib/data]
    healthcheck:
      test: ["CMD", "test", "-d", "/var/lib/data"]
      interval: 1s
  worker:
    build: ./worker
    command: sleep 100000
    stop_grace_period: 1s
volumes:
  data: {{}}
"""
OVERRIDE = """
services:
  web:
    environment: [FROM_OVERRIDE=yes]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_compose_file_applies_and_the_second_apply_changes_nothing(
    tmp_path, project, images, docker_client, monkeypatch
):
    port = free_port()
    compose = write(tmp_path, "compose.yaml", COMPOSE.format(port=port))
    write(tmp_path, "compose.override.yaml", OVERRIDE)
    write(tmp_path, "worker/Dockerfile", f"FROM {images.base}\nRUN echo built > /built\n")

    first = cli("apply", str(compose), "-p", project)
    assert first.code == 0, first
    web = docker_client.containers.get(f"{project}-web-1")
    env = dict(e.split("=", 1) for e in web.attrs["Config"]["Env"])
    assert env["MODE"] == "production" and env["FROM_OVERRIDE"] == "yes"
    assert web.attrs["HostConfig"]["PortBindings"]["8080/tcp"] == [
        {"HostIp": "127.0.0.1", "HostPort": str(port)}
    ]
    worker = docker_client.containers.get(f"{project}-worker-1")
    assert worker.attrs["Config"]["Image"] == f"{project}-worker"  # Compose's default tag
    assert worker.exec_run(["cat", "/built"]).output == b"built\n"
    db = docker_client.containers.get(f"{project}-db-1")
    assert db.attrs["State"]["Health"]["Status"] == "healthy"  # web waited for it
    assert any(m["Name"] == f"{project}_data" for m in db.attrs["Mounts"])
    before = {
        c.name: c.id
        for c in docker_client.containers.list(
            all=True, filters={"label": f"io.reconciler.project={project}"}
        )
    }

    second = cli("apply", str(compose), "-p", project)
    assert second.code == 0, second
    assert "No changes" in second.out

    monkeypatch.chdir(tmp_path)  # no SPEC: compose.yaml (+ its override) found in the folder
    plan = cli("plan", "-p", project, "--detailed-exitcode")
    assert plan.code == 0, plan

    converted = tmp_path / "spec.yaml"
    assert cli("convert", "-p", project, "--output-file", str(converted)).code == 0
    again = cli("plan", str(converted), "--detailed-exitcode")
    assert again.code == 0, again
    after = {
        c.name: c.id
        for c in docker_client.containers.list(
            all=True, filters={"label": f"io.reconciler.project={project}"}
        )
    }
    assert after == before


FIELDS = """
services:
  app:
    image: localhost:5000/stand-in/busybox:1
    command: sleep 100000
    stop_grace_period: 1s
    secrets: [token]
    cap_add: [NET_ADMIN]
    read_only: "true"
    tmpfs: /run
    extra_hosts: ["db.local:10.0.0.2"]
    dns: 127.0.0.53
    stop_signal: SIGQUIT
    sysctls: [net.core.somaxconn=1024]
    mem_limit: 64m
    logging: {driver: json-file, options: {max-size: 1m}}
secrets:
  token: {file: ./token.txt}
"""


def test_compose_container_fields_reach_the_engine(tmp_path, project, images, docker_client):
    compose = write(tmp_path, "compose.yaml", FIELDS)
    (tmp_path / "token.txt").write_text("s3cret")
    first = cli("apply", str(compose), "-p", project)
    assert first.code == 0, first
    app = docker_client.containers.get(f"{project}-app-1")
    host = app.attrs["HostConfig"]
    assert host["CapAdd"] == ["NET_ADMIN"] and host["ReadonlyRootfs"] is True
    assert "/run" in host["Tmpfs"] and host["ExtraHosts"] == ["db.local:10.0.0.2"]
    assert host["Dns"] == ["127.0.0.53"] and host["Sysctls"] == {"net.core.somaxconn": "1024"}
    assert host["Memory"] == 64 * 2**20 and host["LogConfig"]["Type"] == "json-file"
    assert app.attrs["Config"]["StopSignal"] == "SIGQUIT"
    assert app.exec_run(["cat", "/run/secrets/token"]).output == b"s3cret"
    second = cli("apply", str(compose), "-p", project)
    assert second.code == 0 and "No changes" in second.out, second
