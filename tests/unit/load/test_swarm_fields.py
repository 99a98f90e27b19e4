"""target swarm in validation (load/swarm.py): every field a Swarm cannot honour is a located
error that says why; the Swarm-only fields are errors on the engine target; the Swarm fields
normalise (update, endpoint_mode, a port's mode, registry tags)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.load.loader import load_spec
from reconciler.model.spec import RestartPolicy, UpdatePolicy

IMG = "localhost:5000/stand-in/busybox:1"


def write(tmp_path: Path, body: str, target: str = "swarm") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(f"version: 1\nproject: sw\ntarget: {target}\n" + textwrap.dedent(body))
    return path


def problems(path: Path, **kwargs) -> list[str]:
    with pytest.raises(SpecError) as err:
        load_spec(path, {}, **kwargs)
    return [
        f"{p.location.line}:{p.location.column} {p.path}: {p.message}" for p in err.value.problems
    ]


def test_every_swarm_invalid_field_is_located(tmp_path):
    path = write(
        tmp_path,
        f"""\
        images:
          app:
            build: .
        networks:
          back:
            driver: bridge
        containers:
          web:
            image: {IMG}
            state: stopped
            exec: ["true"]
            name: web-one
            depends_on: {{db: healthy}}
            ports:
              - "127.0.0.1:8080:80"
              - {{container: 81, host: "9000-9001"}}
          db:
            image: app
        """,
    )
    (tmp_path / "Dockerfile").write_text("FROM stand-in/busybox:latest\n")
    found = problems(path)
    expected = [
        ("5:3", "images.app", "pushed to a registry"),
        ("9:13", "networks.back.driver", "cannot span a Swarm"),
        ("13:12", "containers.web.state", "`state: stopped` cannot be honoured on a Swarm"),
        ("14:5", "containers.web.exec", "`exec` cannot be honoured on a Swarm"),
        ("15:5", "containers.web.name", "`name` cannot be honoured on a Swarm"),
        ("16:22", "containers.web.depends_on.db", "condition `healthy` cannot be honoured"),
        ("18:9", "containers.web.ports[0]", "`host_ip` cannot be honoured on a Swarm"),
        ("19:9", "containers.web.ports[1]", "a host port range cannot be honoured"),
    ]
    assert len(found) == len(expected), found
    for line, (where, at, words) in zip(found, expected, strict=True):
        assert line.startswith(f"{where} {at}: "), (line, where, at)
        assert words in line, line


def test_swarm_only_fields_are_errors_on_the_engine(tmp_path):
    path = write(
        tmp_path,
        f"""\
        registry: localhost:5000
        containers:
          web:
            image: {IMG}
            endpoint_mode: dnsrr
            update: {{order: stop-first}}
            ports:
              - {{container: 80, mode: host}}
        """,
        target="engine",
    )
    found = problems(path)
    assert [line.split(": ")[0] for line in found] == [
        "4:1 registry",
        "8:5 containers.web.endpoint_mode",
        "9:5 containers.web.update",
        "11:25 containers.web.ports[0].mode",
    ], found
    assert all("target: swarm" in line for line in found)


def test_swarm_fields_normalise(tmp_path):
    path = write(
        tmp_path,
        f"""\
        registry: localhost:5000
        images:
          app:
            build: .
        containers:
          web:
            image: app
            init: true
            endpoint_mode: dnsrr
            update: {{order: stop-first, failure_action: pause, monitor: 2s, parallelism: 2}}
            ports:
              - {{container: 80, host: 8080, mode: host}}
              - "81"
          worker:
            image: {IMG}
            restart: "no"
        """,
    )
    (tmp_path / "Dockerfile").write_text("FROM stand-in/busybox:latest\n")
    spec = load_spec(path, {})
    assert spec.target == "swarm" and spec.registry == "localhost:5000"
    assert spec.images["app"].reference == "localhost:5000/sw/app:latest"
    web = spec.containers["web"]
    assert web.init is True and web.endpoint_mode == "dnsrr"
    assert web.update == UpdatePolicy("stop-first", "pause", 2.0, 2)
    assert [p.mode for p in web.ports] == ["host", None]
    assert web.restart == RestartPolicy("always")  # Swarm's default when restart is unset
    assert spec.containers["worker"].restart == RestartPolicy("no")
    assert spec.network("default").driver == "overlay" and spec.network("default").attachable


def test_target_from_the_command_line(tmp_path):
    path = write(tmp_path, f"containers:\n  web:\n    image: {IMG}\n    state: stopped\n", "engine")
    assert load_spec(path, {}).target == "engine"
    [line] = problems(path, target="swarm")
    assert "containers.web.state" in line


def test_fields_not_mapped_to_a_service_are_refused(tmp_path):
    path = write(
        tmp_path,
        f"""\
        containers:
          web:
            image: {IMG}
            cap_add: [NET_ADMIN]
            read_only: true
        """,
    )
    found = problems(path)
    assert [line.split(": ")[0] for line in found] == [
        "7:5 containers.web.cap_add",
        "8:5 containers.web.read_only",
    ], found
    assert all("not mapped to a Swarm service yet" in line for line in found)
