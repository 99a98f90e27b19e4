"""The create body for the container fields shared with Compose (issue 13): each normalised
field -> its Engine API field (engine/translate.container_create_body + translate_options),
and a config without them -> the same body as before."""

from __future__ import annotations

import textwrap

import pytest

from reconciler.engine.translate import container_create_body
from reconciler.engine.translate_options import endpoint_addresses, network_create_options
from reconciler.load.loader import load_spec
from reconciler.model.config import container_config

H = "version: 1\nproject: shop\n"


def body_of(tmp_path, lines: str, top: str = "", environ=None) -> dict:
    text = H + top + "containers:\n  web:\n    image: busybox:1\n"
    own, marker, other = lines.partition("\n  db:")  # from "\n  db:" on: another container
    text += textwrap.indent(own, "    ") + ("\n  db:" + other if marker else "") + "\n"
    (tmp_path / "spec.yaml").write_text(text)
    spec = load_spec(tmp_path / "spec.yaml", environ=environ or {})
    config = container_config(spec, spec.containers["web"], 1, None)
    body, _ = container_create_body(config, {})
    return body


# (yaml under the container, path in the body, expected value)
FIELDS = [
    ("cap_add: [NET_ADMIN]", ("HostConfig", "CapAdd"), ["NET_ADMIN"]),
    ("cap_drop: [ALL]", ("HostConfig", "CapDrop"), ["ALL"]),
    ("privileged: true", ("HostConfig", "Privileged"), True),
    (
        "security_opt: ['no-new-privileges:true']",
        ("HostConfig", "SecurityOpt"),
        ["no-new-privileges:true"],
    ),
    ("read_only: true", ("HostConfig", "ReadonlyRootfs"), True),
    ("tmpfs: ['/run:size=64m']", ("HostConfig", "Tmpfs"), {"/run": "size=64m"}),
    (
        "devices: ['/dev/fuse:/dev/fuse:rw']",
        ("HostConfig", "Devices"),
        [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rw"}],
    ),
    (
        "sysctls: {net.core.somaxconn: 1024}",
        ("HostConfig", "Sysctls"),
        {"net.core.somaxconn": "1024"},
    ),
    (
        "ulimits: {nofile: {soft: 10, hard: 20}}",
        ("HostConfig", "Ulimits"),
        [{"Name": "nofile", "Soft": 10, "Hard": 20}],
    ),
    ("shm_size: 64m", ("HostConfig", "ShmSize"), 64 << 20),
    ("mem_limit: 256m", ("HostConfig", "Memory"), 256 << 20),
    ("mem_limit: 256m\nmemswap_limit: 512m", ("HostConfig", "MemorySwap"), 512 << 20),
    ("mem_reservation: 64m", ("HostConfig", "MemoryReservation"), 64 << 20),
    ("cpus: 1.5", ("HostConfig", "NanoCpus"), 1_500_000_000),
    ("cpu_shares: 512", ("HostConfig", "CpuShares"), 512),
    ("cpuset: '0'", ("HostConfig", "CpusetCpus"), "0"),
    ("pids_limit: 50", ("HostConfig", "PidsLimit"), 50),
    (
        "deploy: {resources: {limits: {memory: 128m, cpus: '0.25', pids: 9}}}",
        ("HostConfig", "Memory"),
        128 << 20,
    ),
    ("deploy: {resources: {limits: {cpus: '0.25'}}}", ("HostConfig", "NanoCpus"), 250_000_000),
    ("deploy: {resources: {limits: {pids: 9}}}", ("HostConfig", "PidsLimit"), 9),
    (
        "deploy: {resources: {reservations: {memory: 32m}}}",
        ("HostConfig", "MemoryReservation"),
        32 << 20,
    ),
    ("extra_hosts: ['db:10.0.0.5']", ("HostConfig", "ExtraHosts"), ["db:10.0.0.5"]),
    ("dns: [9.9.9.9, 1.1.1.1]", ("HostConfig", "Dns"), ["9.9.9.9", "1.1.1.1"]),
    ("dns_search: [example.com]", ("HostConfig", "DnsSearch"), ["example.com"]),
    ("dns_opt: ['ndots:2']", ("HostConfig", "DnsOptions"), ["ndots:2"]),
    ("network_mode: host", ("HostConfig", "NetworkMode"), "host"),
    ("network_mode: none", ("HostConfig", "NetworkMode"), "none"),
    ("runtime: runc", ("HostConfig", "Runtime"), "runc"),
    (
        "logging: {driver: local, options: {max-size: 1m}}",
        ("HostConfig", "LogConfig"),
        {"Type": "local", "Config": {"max-size": "1m"}},
    ),
    ("init: true", ("HostConfig", "Init"), True),
    ("stop_signal: SIGQUIT", ("StopSignal",), "SIGQUIT"),
    ("tty: true", ("Tty",), True),
    ("stdin_open: true", ("OpenStdin",), True),
    ("mac_address: 02:42:ac:11:00:09", ("MacAddress",), "02:42:ac:11:00:09"),
    ("expose: ['53/udp']", ("ExposedPorts",), {"53/udp": {}}),
    ("working_dir: /srv", ("WorkingDir",), "/srv"),
    (
        "healthcheck: {test: 'true', start_interval: 2s}",
        ("Healthcheck", "StartInterval"),
        2_000_000_000,
    ),
    (
        "ports: ['127.0.0.1:9000-9001:8000-8001']",
        ("HostConfig", "PortBindings"),
        {
            "8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}],
            "8001/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9001"}],
        },
    ),
    ("ports: ['7000-7001/udp']", ("ExposedPorts",), {"7000/udp": {}, "7001/udp": {}}),
    (
        "volumes: ['data:/d:nocopy']",
        ("HostConfig", "Mounts"),
        [
            {
                "Target": "/d",
                "ReadOnly": False,
                "Type": "volume",
                "Source": "data",
                "VolumeOptions": {"NoCopy": True},
            }
        ],
    ),
    (
        "volumes: ['/srv:/srv:ro,rslave']",
        ("HostConfig", "Mounts"),
        [
            {
                "Target": "/srv",
                "ReadOnly": True,
                "Type": "bind",
                "Source": "/srv",
                "BindOptions": {"Propagation": "rslave"},
            }
        ],
    ),
    ("volumes: ['/srv:/srv:z']", ("HostConfig", "Binds"), ["/srv:/srv:rw,z"]),
    (
        "volumes: [{type: bind, source: /srv, target: /w, bind: {create_host_path: true}}]",
        ("HostConfig", "Binds"),
        ["/srv:/w:rw"],
    ),
]


def dig(body: dict, path: tuple[str, ...]):
    for key in path:
        body = body[key]
    return body


@pytest.mark.parametrize("lines, path, expected", FIELDS)
def test_field_reaches_the_body(tmp_path, lines, path, expected):
    assert dig(body_of(tmp_path, lines), path) == expected


def test_no_new_field_no_new_body_key(tmp_path):
    body = body_of(tmp_path, "command: [sleep, '1']\n")
    assert set(body["HostConfig"]) == {"PortBindings", "Mounts", "RestartPolicy", "NetworkMode"}
    assert set(body) == {
        "Image", "Env", "ExposedPorts", "Labels", "HostConfig", "AttachStdin", "AttachStdout",
        "AttachStderr", "Tty", "OpenStdin", "Cmd", "NetworkingConfig",
    }  # fmt: skip
    assert body["Tty"] is False and body["OpenStdin"] is False


def test_secrets_and_configs_are_read_only_bind_mounts(tmp_path):
    (tmp_path / "pw").write_text("x")
    body = body_of(
        tmp_path,
        "secrets: [pw, {source: tok, target: /etc/tok}]\nconfigs: [app]\n",
        top="secrets:\n  pw: {file: ./pw}\n  tok: {environment: TOK}\n"
        "configs:\n  app: {content: hi}\n",
        environ={"TOK": "t", "XDG_STATE_HOME": str(tmp_path / "state")},
    )
    mounts = {m["Target"]: m for m in body["HostConfig"]["Mounts"]}
    assert mounts["/run/secrets/pw"] == {
        "Type": "bind", "Source": str(tmp_path / "pw"), "Target": "/run/secrets/pw",
        "ReadOnly": True,
    }  # fmt: skip
    assert mounts["/etc/tok"]["ReadOnly"] and mounts["/app"]["ReadOnly"]
    assert mounts["/etc/tok"]["Source"].startswith(str(tmp_path / "state" / "reconciler"))


def test_service_network_mode_and_no_project_network(tmp_path):
    body = body_of(tmp_path, "network_mode: 'service:db'\n  db:\n    image: busybox:1\n")
    assert body["HostConfig"]["NetworkMode"] == "container:shop-db-1"
    assert "NetworkingConfig" not in body


def test_fixed_addresses_per_endpoint(tmp_path):
    body = body_of(
        tmp_path,
        "networks: {net: {ipv4_address: 10.7.0.9}}\n",
        top="networks:\n  net: {subnet: 10.7.0.0/24}\n",
    )
    endpoint = body["NetworkingConfig"]["EndpointsConfig"]["net"]  # no engine names given
    assert endpoint["IPAMConfig"] == {"IPv4Address": "10.7.0.9"}
    config = {"networks": [{"network": "b", "ipv6_address": "fd00::2"}]}
    assert endpoint_addresses(config, {"b": "p_b"}) == {"p_b": {"IPv6Address": "fd00::2"}}


def test_network_create_options():
    options = {
        "ipam": {
            "driver": None,
            "config": [{"subnet": "10.8.0.0/24", "gateway": "10.8.0.1"}],
            "options": {},
        },
        "driver_opts": {"com.docker.network.bridge.name": "br-x"},
        "enable_ipv6": True,
    }
    assert network_create_options(options) == {
        "options": {"com.docker.network.bridge.name": "br-x"},
        "enable_ipv6": True,
        "ipam": {
            "Driver": "default",
            "Config": [{"Subnet": "10.8.0.0/24", "Gateway": "10.8.0.1"}],
            "Options": {},
        },
    }
    assert network_create_options(None) == {}
