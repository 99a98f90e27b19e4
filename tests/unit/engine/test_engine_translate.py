"""The engine adapter's pure translations (engine/translate.py; no engine needed): config ->
create body, the committed image's config, and the list data parsers observe() relies on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.engine.translate import (
    commit_config,
    container_create_body,
    format_ports,
    parse_exit_code,
    parse_health,
)
from reconciler.model.spec import CommitChanges


def minimal(**fields):
    base = {"name": "p-web-1", "image": "img:1", "command": None, "entrypoint": None}
    base.update(fields)
    return base


def test_importing_the_engine_does_not_import_docker():
    code = "import sys, reconciler.engine; print('docker' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_minimal_config_leaves_image_defaults_alone():
    body, networks = container_create_body(minimal(), {"l": "1"})
    assert networks == []
    assert "Cmd" not in body and "Entrypoint" not in body and "Healthcheck" not in body
    assert "StopTimeout" not in body and "NetworkingConfig" not in body
    assert body["Labels"] == {"l": "1"}
    assert body["HostConfig"]["RestartPolicy"] == {"Name": "", "MaximumRetryCount": 0}
    assert body["HostConfig"]["Mounts"] == [] and body["HostConfig"]["PortBindings"] == {}


def test_ports_every_interface_and_engine_picked():
    ports = [
        {"container_port": 80, "protocol": "tcp", "host_ip": "", "host_port": None},
        {"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": 8080},
    ]
    body, _ = container_create_body(minimal(ports=ports), {})
    assert body["ExposedPorts"] == {"80/tcp": {}}
    assert body["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": ""}, {"HostIp": "127.0.0.1", "HostPort": "8080"}]
    }


def test_carried_volumes_reuse_names_including_image_volumes():
    volumes = [{"target": "/cache", "source": None, "kind": "anonymous", "read_only": True}]
    carry = {"/cache": "a" * 64, "/var/lib/x": "b" * 64}
    body, _ = container_create_body(minimal(volumes=volumes), {}, carry)
    assert body["HostConfig"]["Mounts"] == [
        {"Target": "/cache", "ReadOnly": True, "Type": "volume", "Source": "a" * 64},
        {"Type": "volume", "Source": "b" * 64, "Target": "/var/lib/x", "ReadOnly": False},
    ]


def test_a_carried_target_now_named_is_not_overridden():
    volumes = [{"target": "/data", "source": "data", "kind": "volume", "read_only": False}]
    body, _ = container_create_body(
        minimal(volumes=volumes), {}, {"/data": "c" * 64}, volume_names={"data": "p_data"}
    )
    assert body["HostConfig"]["Mounts"] == [
        {"Target": "/data", "ReadOnly": False, "Type": "volume", "Source": "p_data"}
    ]


def test_stop_timeout_rounds_up_and_healthcheck_is_nanoseconds():
    hc = {"test": ["NONE"], "interval": None, "timeout": 0.25, "retries": None}
    body, _ = container_create_body(minimal(stop_timeout=2.5, healthcheck=hc), {})
    assert body["StopTimeout"] == 3
    assert body["Healthcheck"] == {"Test": ["NONE"], "Timeout": 250_000_000}


@pytest.mark.parametrize(
    ("status", "health"),
    [
        ("Up 3 minutes (healthy)", "healthy"),
        ("Up 2 seconds (health: starting)", "starting"),
        ("Up 1 second (unhealthy)", "unhealthy"),
        ("Up 5 minutes", None),
        ("Exited (0) 1 second ago", None),
    ],
)
def test_parse_health(status, health):
    assert parse_health(status) == health


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("Exited (137) 2 seconds ago", 137),
        ("Exited (0) About a minute ago", 0),
        ("Restarting (1) 3 seconds ago", 1),
        ("Up 3 seconds", None),
        ("Created", None),
    ],
)
def test_parse_exit_code(status, code):
    assert parse_exit_code(status) == code


def test_format_ports_like_docker_ps():
    ports = [
        {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
        {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
        {"PrivatePort": 53, "Type": "udp"},
        {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
    ]
    assert format_ports(ports) == ("0.0.0.0:8080->80/tcp", "53/udp", "[::]:8080->80/tcp")


def test_commit_config_applies_changes_on_the_base_config():
    base = {
        "cmd": ["sh"],
        "entrypoint": None,
        "env": ["PATH=/bin", "A=1"],
        "exposed_ports": ["80/tcp"],
        "labels": {"from": "base"},
    }
    changes = CommitChanges(
        cmd=("run",), env={"A": "2", "B": "3"}, workdir="/app", expose=("8080", "53/udp")
    )
    conf = commit_config(base, changes, {"own": "1"})
    assert conf["Cmd"] == ["run"] and conf["Entrypoint"] == []  # never null: nothing leaks
    assert conf["Env"] == ["PATH=/bin", "A=2", "B=3"]
    assert set(conf["ExposedPorts"]) == {"80/tcp", "8080/tcp", "53/udp"}
    assert conf["WorkingDir"] == "/app" and "User" not in conf
    assert conf["Labels"] == {"from": "base", "own": "1"}
    # a new entrypoint clears the inherited CMD (Dockerfile semantics)
    conf = commit_config(base, CommitChanges(entrypoint=("tool",)), {})
    assert conf["Entrypoint"] == ["tool"] and conf["Cmd"] == []
    # nothing changed: the base's own CMD stays
    assert commit_config(base, CommitChanges(), {})["Cmd"] == ["sh"]
