"""The container fields spec v1 shares with Compose (issue 13): each value form -> the
normalised ContainerSpec / NetworkSpec / FileSource value (table), each bad value -> its
located error (table), and the config hash: unchanged for a container that sets none of
them, unchanged when an order-insensitive list is reordered, changed by every field."""

from __future__ import annotations

import textwrap

import pytest
from msgspec.structs import replace

from reconciler.errors import SpecError
from reconciler.load.loader import load_spec
from reconciler.model import container_options as O
from reconciler.model import spec as S
from reconciler.model.config import container_config, network_config
from reconciler.model.labels import config_hash

H = "version: 1\nproject: shop\n"
BASE = "containers:\n  web:\n    image: busybox:1\n"


def load(folder, body: str, environ=None) -> S.Spec:
    (folder / "spec.yaml").write_text(H + textwrap.dedent(body))
    return load_spec("spec.yaml", environ=environ or {})


def field_of(folder, lines: str, name: str, environ=None):
    """`lines` go under containers.web; a part from "\n  db:" on is another container."""
    own, marker, other = lines.partition("\n  db:")
    body = BASE + textwrap.indent(own, "    ") + ("\n  db:" + other if marker else "") + "\n"
    return getattr(load(folder, body, environ).containers["web"], name)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # problems name spec.yaml relative to the working folder


MiB = 1 << 20

# (yaml under the container, attribute, expected value)
VALUES = [
    (
        "expose: [80, '53/udp', '8000-8002']",
        "expose",
        ("53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"),
    ),
    ("expose: ['80', 80, '80/tcp']", "expose", ("80/tcp",)),
    ("stop_signal: sigquit", "stop_signal", "SIGQUIT"),
    ("stop_signal: TERM", "stop_signal", "SIGTERM"),
    ("stop_signal: 9", "stop_signal", "9"),
    ("cap_add: [cap_net_admin, SYS_TIME, NET_ADMIN]", "cap_add", ("NET_ADMIN", "SYS_TIME")),
    ("cap_drop: [ALL]", "cap_drop", ("ALL",)),
    ("privileged: true", "privileged", True),
    (
        "security_opt: ['seccomp=unconfined', 'no-new-privileges:true']",
        "security_opt",
        ("no-new-privileges:true", "seccomp=unconfined"),
    ),
    ("read_only: true", "read_only", True),
    ("tmpfs: /run", "tmpfs", {"/run": ""}),
    (
        "tmpfs: ['/tmp:size=64m,mode=1777', /run]",
        "tmpfs",
        {"/run": "", "/tmp": "size=64m,mode=1777"},
    ),
    (
        "devices: ['/dev/fuse', '/dev/sda:/dev/xvda:r']",
        "devices",
        (O.Device("/dev/fuse", "/dev/fuse"), O.Device("/dev/sda", "/dev/xvda", "r")),
    ),
    ("sysctls: {net.core.somaxconn: 1024}", "sysctls", {"net.core.somaxconn": "1024"}),
    ("sysctls: ['net.ipv4.ip_forward=1']", "sysctls", {"net.ipv4.ip_forward": "1"}),
    (
        "ulimits: {nproc: 512, nofile: {soft: 1024, hard: 2048}}",
        "ulimits",
        {"nofile": O.Ulimit("nofile", 1024, 2048), "nproc": O.Ulimit("nproc", 512, 512)},
    ),
    ("shm_size: 64m", "shm_size", 64 * MiB),
    ("shm_size: 1073741824", "shm_size", 1 << 30),
    ("mem_limit: 1.5g", "mem_limit", 3 << 29),
    ("mem_limit: 512MB", "mem_limit", 512 * MiB),
    ("mem_limit: 512m\nmemswap_limit: -1", "memswap_limit", -1),
    ("mem_limit: 512m\nmem_reservation: 128m", "mem_reservation", 128 * MiB),
    ("cpus: 0.5", "cpus", 0.5),
    ("cpus: '1.25'", "cpus", 1.25),
    ("cpu_shares: 512", "cpu_shares", 512),
    ("cpuset: '0-1,3'", "cpuset", "0-1,3"),
    ("pids_limit: 100", "pids_limit", 100),
    (
        "deploy: {resources: {limits: {cpus: '0.5', memory: 256m, pids: 50}, "
        "reservations: {memory: 64m}}}",
        "deploy",
        O.DeployResources(O.ResourceValues(0.5, 256 * MiB, 50), O.ResourceValues(None, 64 * MiB)),
    ),
    (
        "extra_hosts: ['db:10.0.0.5', 'api=10.0.0.6']",
        "extra_hosts",
        ("api:10.0.0.6", "db:10.0.0.5"),
    ),
    ("extra_hosts: {db: '10.0.0.5', v6: '::1'}", "extra_hosts", ("db:10.0.0.5", "v6:::1")),
    ("dns: 1.1.1.1", "dns", ("1.1.1.1",)),
    ("dns: [9.9.9.9, 1.1.1.1]", "dns", ("9.9.9.9", "1.1.1.1")),  # order kept
    ("dns_search: [b.example, a.example]", "dns_search", ("b.example", "a.example")),
    ("dns_opt: [ndots:2, timeout:1]", "dns_opt", ("ndots:2", "timeout:1")),
    ("network_mode: host", "network_mode", "host"),
    ("network_mode: none", "network_mode", "none"),
    ("network_mode: 'container:other'", "network_mode", "container:other"),
    ("mac_address: 02:42:AC:11:00:02", "mac_address", "02:42:ac:11:00:02"),
    ("platform: linux/amd64", "platform", "linux/amd64"),
    ("runtime: runc", "runtime", "runc"),
    ("tty: true", "tty", True),
    ("stdin_open: true", "stdin_open", True),
    (
        "logging: {driver: json-file, options: {max-size: 1m}}",
        "logging",
        O.Logging("json-file", {"max-size": "1m"}),
    ),
    ("pull_policy: always", "pull_policy", "always"),
    ("pull_policy: missing", "pull_policy", "if-missing"),
    ("working_dir: /srv", "workdir", "/srv"),
    ("labels: ['a=b', 'c=d']", "labels", {"a": "b", "c": "d"}),
    (
        "healthcheck: {test: 'true', start_interval: 2s}",
        "healthcheck",
        S.Healthcheck(("CMD-SHELL", "true"), start_interval=2.0),
    ),
    (
        "ports: ['127.0.0.1:9000-9001:8000-8001/udp']",
        "ports",
        (S.PortBinding(8000, "udp", "127.0.0.1", 9000, 9001, container_port_end=8001),),
    ),
    ("ports: ['8000-8002']", "ports", (S.PortBinding(8000, container_port_end=8002),)),
    (
        "ports: [{container: '7000-7001', host: '9100-9101'}]",
        "ports",
        (S.PortBinding(7000, "tcp", "", 9100, 9101, container_port_end=7001),),
    ),
    (
        "volumes: ['data:/data:nocopy']",
        "volumes",
        (S.Mount("/data", "data", "volume", nocopy=True),),
    ),
    (
        "volumes: ['/srv:/srv:ro,Z']",
        "volumes",
        (S.Mount("/srv", "/srv", "bind", True, selinux="Z"),),
    ),
    (
        "volumes: ['/srv:/srv:rshared']",
        "volumes",
        (S.Mount("/srv", "/srv", "bind", propagation="rshared"),),
    ),
    (
        "volumes: [{type: bind, source: /srv, target: /w, bind: {create_host_path: true, "
        "propagation: rslave, selinux: z}}]",
        "volumes",
        (S.Mount("/w", "/srv", "bind", selinux="z", propagation="rslave", create_host_path=True),),
    ),
    (
        "volumes: [{source: data, target: /d, volume: {nocopy: true}}]",
        "volumes",
        (S.Mount("/d", "data", "volume", nocopy=True),),
    ),
    (
        "depends_on: {db: {condition: healthy, restart: true}}\n  db:\n    image: busybox:1",
        "depends_on",
        (S.Dependency("db", "healthy", restart=True),),
    ),
    ("depends_on: {gone: {condition: started, required: false}}", "depends_on", ()),
    (
        "network_mode: 'service:db'\n  db:\n    image: busybox:1",
        "depends_on",
        (S.Dependency("db"),),
    ),
]


@pytest.mark.parametrize("lines, name, expected", VALUES)
def test_field_value(tmp_path, lines, name, expected):
    assert field_of(tmp_path, lines, name) == expected


def test_env_file_long_form(tmp_path):
    (tmp_path / "a.env").write_text("A=1\n")
    env = field_of(
        tmp_path,
        "env_file: [{path: a.env}, {path: missing.env, required: false}]",
        "env",
    )
    assert env == {"A": "1"}


def test_network_attachment_addresses_and_network_options(tmp_path):
    spec = load(
        tmp_path,
        """\
        networks:
          net:
            enable_ipv6: true
            driver_opts: {com.docker.network.bridge.name: br-x}
            ipam:
              driver: default
              config: [{subnet: 10.9.0.0/24, gateway: 10.9.0.1, ip_range: 10.9.0.128/25}]
        containers:
          web:
            image: busybox:1
            networks:
              net: {ipv4_address: 10.9.0.10, ipv6_address: 'fd00::10'}
        """,
    )
    net = spec.networks["net"]
    assert net.enable_ipv6 and net.driver_opts == {"com.docker.network.bridge.name": "br-x"}
    assert net.ipam == O.Ipam(
        "default", (O.IpamPool("10.9.0.0/24", "10.9.0.128/25", "10.9.0.1"),), {}
    )
    (attachment,) = spec.containers["web"].networks
    assert (attachment.ipv4_address, attachment.ipv6_address) == ("10.9.0.10", "fd00::10")


def test_secrets_and_configs(tmp_path):
    (tmp_path / "pw.txt").write_text("hunter2")
    spec = load(
        tmp_path,
        """\
        secrets:
          pw: {file: ./pw.txt}
          token: {environment: TOKEN}
        configs:
          app: {content: "a=1"}
        containers:
          web:
            image: busybox:1
            secrets: [pw, {source: token, target: tok, mode: '0400'}]
            configs: [{source: app, target: /etc/app.conf}]
        """,
        environ={"TOKEN": "t0k", "XDG_STATE_HOME": str(tmp_path / "state")},
    )
    web = spec.containers["web"]
    assert web.secrets == (
        O.FileUse("pw", "/run/secrets/pw"),
        O.FileUse("token", "/run/secrets/tok", mode=0o400),
    )
    assert web.configs == (O.FileUse("app", "/etc/app.conf"),)
    pw, token = spec.secrets["pw"], spec.secrets["token"]
    assert pw.host_path == str(tmp_path / "pw.txt") and pw.content is None
    assert token.content == "t0k" and token.environment == "TOKEN"
    assert token.host_path.startswith(str(tmp_path / "state" / "reconciler" / "files" / "shop"))
    assert token.digest[:16] in token.host_path
    assert spec.configs["app"].content == "a=1"


# --- located errors ------------------------------------------------------------------------

# (yaml under the container, the rendered problem)
ERRORS = [
    (
        "mem_limit: 12x",
        "spec.yaml:6:16: containers.web.mem_limit: invalid mem_limit '12x': "
        "expected a number with an optional unit b, k, m, g, t or p (512m, 1g, 64kb)",
    ),
    (
        "shm_size: -5",
        "spec.yaml:6:15: containers.web.shm_size: invalid shm_size -5: must not be negative",
    ),
    ("cpus: 0", "spec.yaml:6:11: containers.web.cpus: invalid cpus 0: must be more than 0"),
    (
        "cpuset: '3-1'",
        "spec.yaml:6:13: containers.web.cpuset: invalid cpuset '3-1': the range 3-1 runs backwards",
    ),
    (
        "sysctls: {vm.swappiness: 10}",
        'spec.yaml:6:30: containers.web.sysctls["vm.swappiness"]: '
        "sysctl vm.swappiness is not namespaced: a container may set only net.*, fs.mqueue.*, "
        "kernel.msg*, kernel.sem, kernel.shm* and kernel.hostname/domainname",
    ),
    (
        "sysctls: ['net.core.somaxconn']",
        "spec.yaml:6:15: containers.web.sysctls[0]: expected NAME=VALUE, not 'net.core.somaxconn'",
    ),
    (
        "ulimits: {nofile: {soft: 4096, hard: 1024}}",
        "spec.yaml:6:23: containers.web.ulimits."
        "nofile: invalid ulimit nofile: soft 4096 is above hard 1024",
    ),
    (
        "ulimits: {files: 10}",
        "spec.yaml:6:22: containers.web.ulimits.files: unknown ulimit "
        "'files': expected one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, "
        "nofile, nproc, rss, rtprio, rttime, sigpending, stack",
    ),
    (
        "stop_signal: SIGFOO",
        "spec.yaml:6:18: containers.web.stop_signal: unknown signal "
        "'SIGFOO': expected a name like SIGTERM or SIGQUIT",
    ),
    (
        "cap_add: ['net admin']",
        "spec.yaml:6:15: containers.web.cap_add[0]: invalid capability "
        "'net admin': expected a name like NET_ADMIN",
    ),
    (
        "tmpfs: ['/run:size=1x']",
        "spec.yaml:6:13: containers.web.tmpfs[0]: invalid tmpfs option 'size=1x' in '/run:size=1x'",
    ),
    (
        "devices: ['/dev/fuse:/dev/fuse:rwx']",
        "spec.yaml:6:15: containers.web.devices[0]: "
        "invalid device permissions 'rwx': a subset of rwm",
    ),
    (
        "extra_hosts: ['db:not-an-ip']",
        "spec.yaml:6:19: containers.web.extra_hosts[0]: invalid "
        "address 'not-an-ip' for extra host db",
    ),
    (
        "dns: [1.1.1]",
        "spec.yaml:6:11: containers.web.dns[0]: invalid DNS server '1.1.1': "
        "expected an IPv4 address",
    ),
    (
        "mac_address: 02:42",
        "spec.yaml:6:18: containers.web.mac_address: invalid mac_address "
        "'02:42': expected a MAC address like 02:42:ac:11:00:02",
    ),
    (
        "platform: amd64",
        "spec.yaml:6:15: containers.web.platform: invalid platform 'amd64': "
        "expected OS/ARCH[/VARIANT], e.g. linux/amd64",
    ),
    (
        "pull_policy: daily",
        "spec.yaml:6:18: containers.web.pull_policy: must be one of "
        "if-missing, always, never, missing, if_not_present, not 'daily'",
    ),
    (
        "mem_limit: 1g\ndeploy: {resources: {limits: {memory: 2g}}}",
        "spec.yaml:6:16: "
        "containers.web.mem_limit: mem_limit and deploy.resources.limits.memory differ: set one "
        "of them",
    ),
    (
        "memswap_limit: 1g",
        "spec.yaml:6:20: containers.web.memswap_limit: memswap_limit needs mem_limit",
    ),
    (
        "mem_limit: 1g\nmemswap_limit: 512m",
        "spec.yaml:7:20: containers.web.memswap_limit: "
        "memswap_limit (memory + swap) must be at least mem_limit",
    ),
    (
        "network_mode: 'service:nope'",
        "spec.yaml:6:19: containers.web.network_mode: "
        "network_mode service:nope: no other container 'nope'",
    ),
    (
        "network_mode: host\nnetworks: [default]",
        "spec.yaml:6:19: containers.web.network_mode: "
        "network_mode host cannot be combined with networks",
    ),
    (
        "secrets: [nope]",
        "spec.yaml:6:15: containers.web.secrets[0]: unknown secret 'nope': "
        "declare it under the top-level secrets:",
    ),
    (
        "workdir: /a\nworking_dir: /b",
        "spec.yaml:7:18: containers.web.working_dir: workdir and working_dir are the same: set one",
    ),
    (
        "ports: ['9000-9001:8000-8001']\nreplicas: 2",
        "spec.yaml:6:13: containers.web.ports[0]: a container port range needs replicas: 1",
    ),
    (
        "volumes: ['data:/d:z']",
        "spec.yaml:6:15: containers.web.volumes[0]: selinux applies only to a bind mount",
    ),
    (
        "networks: {default: {ipv4_address: 'fd00::1'}}",
        "spec.yaml:6:40: containers.web.networks."
        "default.ipv4_address: invalid ipv4_address 'fd00::1': expected an IPv4 address",
    ),
]


@pytest.mark.parametrize("lines, expected", ERRORS)
def test_field_error(tmp_path, lines, expected):
    with pytest.raises(SpecError) as info:
        field_of(tmp_path, lines, "key")
    rendered = [p.render() for p in info.value.problems]
    assert rendered == [expected]


@pytest.mark.parametrize(
    "top, expected",
    [
        (
            "secrets:\n  s: {file: ./missing}\n",
            "spec.yaml:4:13: secrets.s.file: secret file not found: {tmp}/missing",
        ),
        (
            "secrets:\n  s: {environment: NOPE}\n",
            "spec.yaml:4:20: secrets.s.environment: environment variable NOPE is not set",
        ),
        (
            "secrets:\n  s: {external: true}\n",
            "spec.yaml:4:17: secrets.s.external: an external "
            "secret exists only in Swarm (docker secret create); use file or environment here",
        ),
        (
            "secrets:\n  s: {}\n",
            "spec.yaml:4:3: secrets.s: a secret needs exactly one of file, environment",
        ),
    ],
)
def test_source_error(tmp_path, top, expected):
    with pytest.raises(SpecError) as info:
        load(tmp_path, top)
    rendered = [p.render() for p in info.value.problems]
    assert rendered == [expected.replace("{tmp}", str(tmp_path))]


# --- the config hash -----------------------------------------------------------------------


def hash_of(spec: S.Spec, key: str = "web") -> str:
    return config_hash(container_config(spec, spec.containers[key], 1, "sha256:abc"))


def test_hash_unchanged_when_no_new_field_is_set():
    """A container that sets none of the new fields hashes as before issue 13 (the value was
    computed at f6361cb, before the fields existed)."""
    spec = S.Spec(
        project="shop",
        path="/x/spec.yaml",
        containers={
            "web": S.ContainerSpec(
                key="web",
                image="busybox:1",
                command=("sleep", "1"),
                env={"A": "1"},
                ports=(S.PortBinding(80, host_port=8080),),
                volumes=(S.Mount("/d", "data"), S.Mount("/b", "/srv", "bind", True)),
                healthcheck=S.Healthcheck(("CMD", "true"), interval=1.0),
                depends_on=(S.Dependency("db"),),
                networks=(S.NetworkAttachment("default", ("w",)),),
            )
        },
    )
    assert hash_of(spec) == BEFORE_ISSUE_13


BEFORE_ISSUE_13 = "45d33d7d644d8710236712f58bc615921382236dda90c642104c223a4afd1f66"


def test_network_config_unchanged_when_no_new_field_is_set():
    network = S.NetworkSpec(key="n", name="shop_n", subnet="10.1.0.0/24")
    assert network_config(network) == {
        "name": "shop_n",
        "driver": "bridge",
        "internal": False,
        "labels": {},
        "subnet": "10.1.0.0/24",
    }


REORDERED = [
    ("cap_add: [A_CAP, B_CAP]", "cap_add: [B_CAP, A_CAP]"),
    ("cap_drop: [MKNOD, CHOWN]", "cap_drop: [CHOWN, MKNOD]"),
    ("security_opt: ['a=1', 'b=2']", "security_opt: ['b=2', 'a=1']"),
    ("expose: [80, 81]", "expose: [81, 80]"),
    ("tmpfs: [/a, /b]", "tmpfs: [/b, /a]"),
    ("devices: [/dev/a, /dev/b]", "devices: [/dev/b, /dev/a]"),
    ("sysctls: {net.a: 1, net.b: 2}", "sysctls: {net.b: 2, net.a: 1}"),
    ("ulimits: {nofile: 1, nproc: 2}", "ulimits: {nproc: 2, nofile: 1}"),
    ("extra_hosts: ['a:1.1.1.1', 'b:2.2.2.2']", "extra_hosts: ['b:2.2.2.2', 'a:1.1.1.1']"),
    ("dns_opt: [a, b]", "dns_opt: [b, a]"),
    ("logging: {options: {a: '1', b: '2'}}", "logging: {options: {b: '2', a: '1'}}"),
    ("labels: ['a=1', 'b=2']", "labels: ['b=2', 'a=1']"),
]


@pytest.mark.parametrize("first, second", REORDERED)
def test_reordered_list_keeps_the_hash(tmp_path, first, second):
    a = load(tmp_path, BASE + "    " + first + "\n")
    b = load(tmp_path, BASE + "    " + second + "\n")
    assert hash_of(a) == hash_of(b)


# depends_on and pull_policy are not part of a container's config (like replicas and state)
CHANGES = [
    line
    for line, _name, _value in VALUES
    if "\n  db:" not in line and not line.startswith(("depends_on", "pull_policy"))
] + ["dns: [1.1.1.1, 9.9.9.9]"]  # vs the reversed order in VALUES: order matters for dns


@pytest.mark.parametrize("line", CHANGES)
def test_every_field_changes_the_hash(tmp_path, line):
    plain = load(tmp_path, BASE)
    changed = load(tmp_path, BASE + textwrap.indent(line, "    ") + "\n")
    assert hash_of(changed) != hash_of(plain)


def test_secret_content_changes_the_hash_but_is_not_in_the_config(tmp_path):
    body = "secrets:\n  s: {environment: S}\n" + BASE + "    secrets: [s]\n"
    one = load(tmp_path, body, environ={"S": "first-secret"})
    two = load(tmp_path, body, environ={"S": "second-secret"})
    assert hash_of(one) != hash_of(two)
    config = container_config(one, one.containers["web"], 1, None)
    assert "first-secret" not in repr(config)


def test_service_network_mode_names_the_other_container(tmp_path):
    spec = load(tmp_path, BASE + "    network_mode: 'service:db'\n  db:\n    image: busybox:1\n")
    config = container_config(spec, spec.containers["web"], 1, None)
    assert config["network_mode"] == "container:shop-db-1"
    assert config["networks"] == []
    assert replace(spec.containers["web"], network_mode=None).network_mode is None
