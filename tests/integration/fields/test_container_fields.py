"""Every container field spec v1 shares with Compose (issue 13), applied on the real engine:
`docker inspect` (through the SDK) shows each one reached the engine (capabilities, limits,
sysctls, tmpfs, read-only root, secrets and configs mounted with their content, DNS, extra
hosts, stop signal, logging drivers json-file/local/none, network_mode, fixed address, port
ranges, mount options), and a second apply changes nothing. Self-contained: one project, its
own network (a subnet chosen from the project's name), no host port but loopback ones chosen
by the engine, no remote log driver."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from tests.clirun import cli
from tests.polling import wait_for

pytestmark = pytest.mark.integration


SPEC = """\
version: 1
project: ignored
secrets:
  db_password: {{file: ./password.txt}}
  api_token: {{environment: FIELDS_API_TOKEN}}
configs:
  app_conf: {{content: "mode=test"}}
networks:
  net:
    ipam:
      config: [{{subnet: 10.{a}.{b}.0/24, gateway: 10.{a}.{b}.1}}]
volumes:
  data:
containers:
  web:
    image: {image}
    command: ["sleep", "100000"]
    init: true
    working_dir: /srv
    labels: ["tier=web", "team=fields"]
    expose: [80, "53/udp"]
    ports: [{{container: "7000-7001", host_ip: 127.0.0.1}}]
    secrets: [db_password, {{source: api_token, target: token}}]
    configs: [{{source: app_conf, target: /etc/app.conf}}]
    stop_signal: SIGQUIT
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    security_opt: ["no-new-privileges:true"]
    read_only: true
    tmpfs: ["/run:size=16m", /tmp]
    sysctls: {{net.core.somaxconn: 1024}}
    ulimits: {{nofile: {{soft: 1024, hard: 2048}}, nproc: 512}}
    shm_size: 32m
    mem_limit: 256m
    mem_reservation: 64m
    cpus: 0.5
    cpu_shares: 512
    cpuset: "0"
    pids_limit: 100
    extra_hosts: ["db.example:10.0.0.5"]
    dns: [10.{a}.{b}.53]
    dns_search: [example.test]
    dns_opt: ["ndots:2"]
    mac_address: "02:42:0a:{a:02x}:{b:02x}:0a"
    tty: true
    stdin_open: true
    logging: {{driver: json-file, options: {{max-size: 1m}}}}
    healthcheck: {{test: "true", interval: 1s, start_interval: 1s}}
    networks:
      net: {{ipv4_address: 10.{a}.{b}.10}}
    volumes:
      - "data:/data:nocopy"
      - {{type: bind, source: ./made, target: /made, bind: {{create_host_path: true}}}}
  side:
    image: {image}
    command: ["sleep", "100000"]
    init: true
    network_mode: "service:web"
    logging: {{driver: none}}
    deploy: {{resources: {{limits: {{memory: 128m, pids: 50}}}}}}
  dev:
    image: {image}
    command: ["sleep", "100000"]
    init: true
    network_mode: none
    devices: ["/dev/null:/dev/xnull:rw"]
    logging: {{driver: local}}
"""


@pytest.fixture
def applied(project, images, tmp_path, monkeypatch, docker_client):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FIELDS_API_TOKEN", "token-from-env")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / "password.txt").write_text("s3cret-file")
    n = zlib.crc32(project.encode()) % 200
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(image=images.base, a=200 + n % 50, b=n))
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 0, out + err
    return spec


def inspect(docker_client, project: str, key: str) -> dict:
    return docker_client.api.inspect_container(f"{project}-{key}-1")


def test_every_field_reaches_the_engine(applied, project, docker_client, tmp_path):
    web = inspect(docker_client, project, "web")
    host, config = web["HostConfig"], web["Config"]
    assert host["CapAdd"] == ["NET_ADMIN"] and host["CapDrop"] == ["MKNOD"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["ReadonlyRootfs"] is True
    assert host["Tmpfs"] == {"/run": "size=16m", "/tmp": ""}
    assert host["Sysctls"] == {"net.core.somaxconn": "1024"}
    assert {u["Name"]: (u["Soft"], u["Hard"]) for u in host["Ulimits"]} == {
        "nofile": (1024, 2048),
        "nproc": (512, 512),
    }
    assert host["ShmSize"] == 32 << 20
    assert host["Memory"] == 256 << 20 and host["MemoryReservation"] == 64 << 20
    assert host["NanoCpus"] == 500_000_000 and host["CpuShares"] == 512
    assert host["CpusetCpus"] == "0" and host["PidsLimit"] == 100
    assert host["ExtraHosts"] == ["db.example:10.0.0.5"]
    assert host["DnsSearch"] == ["example.test"] and host["DnsOptions"] == ["ndots:2"]
    assert len(host["Dns"]) == 1 and host["Dns"][0].endswith(".53")
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m"}}
    assert host["Init"] is True
    assert config["StopSignal"] == "SIGQUIT"
    assert config["Tty"] is True and config["OpenStdin"] is True
    assert config["WorkingDir"] == "/srv"
    assert {"80/tcp", "53/udp", "7000/tcp", "7001/tcp"} <= set(config["ExposedPorts"])
    assert config["Labels"]["tier"] == "web" and config["Labels"]["team"] == "fields"
    bound = host["PortBindings"]
    assert bound["7000/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": ""}]
    assert bound["7001/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": ""}]
    (endpoint,) = web["NetworkSettings"]["Networks"].values()
    assert endpoint["IPAMConfig"]["IPv4Address"].endswith(".10")
    assert endpoint["IPAddress"] == endpoint["IPAMConfig"]["IPv4Address"]
    assert endpoint["MacAddress"].endswith(":0a")
    mounts = {m["Destination"]: m for m in web["Mounts"]}
    for target in ("/run/secrets/db_password", "/run/secrets/token", "/etc/app.conf"):
        assert mounts[target]["Type"] == "bind" and mounts[target]["RW"] is False
    assert (tmp_path / "made").is_dir()  # create_host_path made the bind source
    container = docker_client.containers.get(web["Id"])

    def read(path: str) -> str:
        code, out = container.exec_run(["cat", path])
        assert code == 0, out
        return out.decode()

    assert read("/run/secrets/db_password") == "s3cret-file"
    assert read("/run/secrets/token") == "token-from-env"
    assert read("/etc/app.conf") == "mode=test"
    code, _ = container.exec_run(["touch", "/root-is-read-only"])
    assert code != 0

    side = inspect(docker_client, project, "side")
    assert side["HostConfig"]["NetworkMode"] == f"container:{web['Id']}"  # the engine's form
    assert side["HostConfig"]["LogConfig"]["Type"] == "none"
    assert side["HostConfig"]["Memory"] == 128 << 20 and side["HostConfig"]["PidsLimit"] == 50
    dev = inspect(docker_client, project, "dev")
    assert dev["HostConfig"]["NetworkMode"] == "none"
    assert dev["HostConfig"]["LogConfig"]["Type"] == "local"
    assert dev["HostConfig"]["Devices"] == [
        {"PathOnHost": "/dev/null", "PathInContainer": "/dev/xnull", "CgroupPermissions": "rw"}
    ]
    for key in ("web", "side", "dev"):
        wait_for(
            lambda k=key: inspect(docker_client, project, k)["State"]["Running"],
            what=f"{key} running",
        )


def test_second_apply_changes_nothing(applied, project):
    code, out, err = cli("plan", str(applied), "-p", project, "--detailed-exitcode")
    assert code == 0, out + err
    code, out, err = cli("apply", str(applied), "-p", project)
    assert code == 0, out + err
    code, out, err = cli("plan", str(applied), "-p", project, "--detailed-exitcode")
    assert code == 0, out + err


def test_changed_secret_replaces_the_container(applied, project, docker_client, monkeypatch):
    before = inspect(docker_client, project, "web")["Id"]
    monkeypatch.setenv("FIELDS_API_TOKEN", "rotated")
    code, out, err = cli("apply", str(applied), "-p", project)
    assert code == 0, out + err
    web = docker_client.containers.get(f"{project}-web-1")
    assert web.id != before
    assert web.exec_run(["cat", "/run/secrets/token"]).output.decode() == "rotated"
    assert Path(applied).exists()


def test_service_network_mode_follows_a_replaced_container(applied, project, docker_client):
    spec = Path(applied)
    spec.write_text(spec.read_text().replace('["sleep", "100000"]', '["sleep", "100001"]', 1))
    code, out, err = cli("apply", str(spec), "-p", project)
    assert code == 0, out + err
    web = inspect(docker_client, project, "web")
    side = inspect(docker_client, project, "side")
    assert web["Config"]["Cmd"] == ["sleep", "100001"]
    assert side["HostConfig"]["NetworkMode"] == f"container:{web['Id']}"  # the new namespace
    code, out, err = cli("plan", str(spec), "-p", project, "--detailed-exitcode")
    assert code == 0, out + err
