"""Normalisation of a valid spec into spec.py values: ports, durations, volumes, env and
env_file, commands, restart, depends_on, healthchecks, images, networks and volumes."""

from __future__ import annotations

import textwrap

import pytest

from reconciler.errors import Location
from reconciler.load.loader import load_spec
from reconciler.load.normalize.scalars import parse_duration, parse_port, reference_problem
from reconciler.model import spec as S

H = "version: 1\nproject: shop\n"


def load(tmp_path, body: str, environ=None, project=None) -> S.Spec:
    path = tmp_path / "spec.yaml"
    path.write_text(H + textwrap.dedent(body))
    return load_spec(path, environ={} if environ is None else environ, project=project)


def container(tmp_path, body: str, **kw) -> S.ContainerSpec:
    spec = load(tmp_path, "containers:\n  web:\n    image: busybox:1\n" + body, **kw)
    return spec.containers["web"]


# --- ports -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8080", S.PortBinding(8080)),
        ("8080/udp", S.PortBinding(8080, "udp")),
        ("8080/TCP", S.PortBinding(8080, "tcp")),
        ("9000:8080", S.PortBinding(8080, "tcp", "", 9000)),
        ("127.0.0.1::8080", S.PortBinding(8080, "tcp", "127.0.0.1", None)),
        ("127.0.0.1:9000:8080/sctp", S.PortBinding(8080, "sctp", "127.0.0.1", 9000)),
        ("127.0.0.1:8080-8081:8080", S.PortBinding(8080, "tcp", "127.0.0.1", 8080, 8081)),
        ("8080-8080:80", S.PortBinding(80, "tcp", "", 8080, None)),
        ("[::1]:9000:80", S.PortBinding(80, "tcp", "::1", 9000)),
        ("[::1]::80/udp", S.PortBinding(80, "udp", "::1", None)),
    ],
)
def test_parse_port(text, expected):
    assert parse_port(text) == expected


@pytest.mark.parametrize(
    "text", ["", "x", "0", "65536", "1:2:3:4", "81-80", ":80", "80/icmp", "[::1]:80", "a.b::80"]
)
def test_parse_port_rejects(text):
    with pytest.raises(ValueError):
        parse_port(text)


def test_port_range_gives_each_replica_a_port(tmp_path):
    web = container(tmp_path, '    replicas: 2\n    ports: ["127.0.0.1:8080-8081:8080"]\n')
    (port,) = web.ports
    assert [port.host_port_for(r) for r in (1, 2)] == [8080, 8081]


def test_long_form_port(tmp_path):
    web = container(
        tmp_path,
        "    replicas: 2\n    ports:\n"
        "      - {container: 80, host: 8080-8081, protocol: udp, host_ip: 127.0.0.1}\n"
        '      - {container: "81"}\n',
    )
    assert web.ports == (
        S.PortBinding(80, "udp", "127.0.0.1", 8080, 8081),
        S.PortBinding(81),
    )


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("5s", 5.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("2us", 2e-6),
        ("10", 10.0),
        (10, 10.0),
        (2.5, 2.5),
        (0, 0.0),
        ("1h2m3s4ms", 3723.004),
    ],
)
def test_parse_duration(value, seconds):
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "5", "5x", "s", "-1s", -1, True, None, "1 m", [1]][2:])
def test_parse_duration_rejects(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_durations_in_spec(tmp_path):
    web = container(
        tmp_path,
        "    stop_timeout: 1m30s\n"
        "    healthcheck: {test: [CMD, 'true'], interval: 5s, timeout: 500ms, retries: 3,"
        " start_period: 2}\n",
    )
    assert web.stop_timeout == 90.0
    assert web.healthcheck == S.Healthcheck(("CMD", "true"), 5.0, 0.5, 3, 2.0)


# --- volumes ------------------------------------------------------------------------------------


def test_volumes(tmp_path):
    web = container(
        tmp_path,
        "    volumes:\n"
        '      - "data:/var/lib/data"\n'
        '      - "./site:/www:ro"\n'
        '      - "/anon/only"\n'
        '      - "/abs/host:/host:rw"\n'
        '      - "../up:/up"\n'
        "      - {source: cache, target: /cache, read_only: true}\n"
        "      - {type: bind, source: site, target: /site2}\n"
        "      - {target: /anon2}\n"
        "      - {type: volume, target: /anon3/}\n",
    )
    assert web.volumes == (
        S.Mount("/var/lib/data", "data", "volume"),
        S.Mount("/www", str(tmp_path / "site"), "bind", True),
        S.Mount("/anon/only", None, "anonymous"),
        S.Mount("/host", "/abs/host", "bind"),
        S.Mount("/up", str(tmp_path.parent / "up"), "bind"),
        S.Mount("/cache", "cache", "volume", True),
        S.Mount("/site2", str(tmp_path / "site"), "bind"),
        S.Mount("/anon2", None, "anonymous"),
        S.Mount("/anon3", None, "anonymous"),
    )


def test_undeclared_named_volume_is_allowed(tmp_path):
    spec = load(tmp_path, "containers:\n  web:\n    image: busybox:1\n    volumes: [other:/o]\n")
    assert spec.containers["web"].volumes == (S.Mount("/o", "other", "volume"),)
    assert spec.volumes == {}


# --- env and env_file -----------------------------------------------------------------------------


def test_env_file_merged_and_env_wins(tmp_path):
    (tmp_path / "a.env").write_text(
        textwrap.dedent(
            """\
            # a comment

            export A=from-a
            B = 'single $NOT ${EXPANDED}'
            C="double \\"quoted\\" \\n line"
            D=bare value # a comment
            E=x#not-a-comment
            SHARED=from-a
            EMPTY=
            MULTI="one
            two"
            """
        )
    )
    (tmp_path / "b.env").write_text("SHARED=from-b\nONLY_B=1\n")
    web = container(
        tmp_path,
        "    env_file: [a.env, b.env]\n    env: {SHARED: from-env, X: 'y'}\n",
    )
    assert web.env == {
        "A": "from-a",
        "B": "single $NOT ${EXPANDED}",
        "C": 'double "quoted" \n line',
        "D": "bare value",
        "E": "x#not-a-comment",
        "SHARED": "from-env",
        "EMPTY": "",
        "MULTI": "one\ntwo",
        "ONLY_B": "1",
        "X": "y",
    }


def test_env_list_form(tmp_path):
    web = container(
        tmp_path,
        '    env: ["A=1", "B=x=y", "C=", "FROM_HOST", "UNSET_ON_HOST"]\n',
        environ={"FROM_HOST": "h"},
    )
    assert web.env == {"A": "1", "B": "x=y", "C": "", "FROM_HOST": "h"}


def test_env_file_single_string(tmp_path):
    (tmp_path / "web.env").write_text("K=V\n")
    assert container(tmp_path, "    env_file: web.env\n").env == {"K": "V"}


# --- commands, restart, depends_on, networks ---------------------------------------------


def test_commands(tmp_path):
    web = container(
        tmp_path,
        "    command: sh -c 'echo \"a b\"; sleep 1'\n"
        "    entrypoint: [/bin/tini, --]\n"
        "    exec:\n"
        "      - echo hi > /tmp/x\n"
        "      - [touch, /tmp/y]\n",
    )
    assert web.command == ("sh", "-c", 'echo "a b"; sleep 1')
    assert web.entrypoint == ("/bin/tini", "--")
    assert web.exec == (("sh", "-c", "echo hi > /tmp/x"), ("touch", "/tmp/y"))


def test_defaults(tmp_path):
    web = container(tmp_path, "")
    assert web == S.ContainerSpec(key="web", image="busybox:1", location=web.location)
    assert web.location == Location(str(tmp_path / "spec.yaml"), 4, 3)


@pytest.mark.parametrize(
    "value, policy",
    [
        ("no", S.RestartPolicy("no")),
        ('"no"', S.RestartPolicy("no")),
        ("always", S.RestartPolicy("always")),
        ("on-failure", S.RestartPolicy("on-failure")),
        ("on-failure:3", S.RestartPolicy("on-failure", 3)),
        ("unless-stopped", S.RestartPolicy("unless-stopped")),
    ],
)
def test_restart(tmp_path, value, policy):
    assert container(tmp_path, f"    restart: {value}\n").restart == policy


def test_depends_on_forms(tmp_path):
    spec = load(
        tmp_path,
        "containers:\n"
        "  a: {image: 'x:1', depends_on: [b, c]}\n"
        "  b: {image: 'x:1', depends_on: {c: healthy, d: {condition: completed}, e: {}}}\n"
        "  c: {image: 'x:1'}\n  d: {image: 'x:1'}\n  e: {image: 'x:1'}\n",
    )
    assert spec.containers["a"].depends_on == (S.Dependency("b"), S.Dependency("c"))
    assert spec.containers["b"].depends_on == (
        S.Dependency("c", "healthy"),
        S.Dependency("d", "completed"),
        S.Dependency("e", "started"),
    )


def test_healthcheck_forms(tmp_path):
    web = container(tmp_path, "    healthcheck: {test: wget -q -O- localhost}\n")
    assert web.healthcheck == S.Healthcheck(("CMD-SHELL", "wget -q -O- localhost"))
    web = container(tmp_path, "    healthcheck: {test: [NONE]}\n")
    assert web.healthcheck == S.Healthcheck(("NONE",))


def test_networks_and_volumes_top_level(tmp_path):
    spec = load(
        tmp_path,
        "networks:\n"
        "  backend: {driver: bridge, internal: true, labels: {a: b}, subnet: 10.99.0.0/24}\n"
        "  outside: {external: true}\n"
        "  named: {external: true, name: engine-net}\n"
        "  plain:\n"
        "volumes:\n"
        "  data: {driver_opts: {type: tmpfs}}\n"
        "  ext: {external: true}\n"
        "  own: {name: my-data}\n"
        "containers:\n"
        "  web:\n"
        "    image: 'x:1'\n"
        "    networks: {backend: {aliases: [api, www]}, plain: }\n",
        project="other",
    )
    assert spec.project == "other"
    n = spec.networks
    assert n["backend"] == S.NetworkSpec(
        "backend",
        "other_backend",
        "bridge",
        True,
        {"a": "b"},
        "10.99.0.0/24",
        False,
        location=n["backend"].location,
    )
    assert (n["outside"].name, n["named"].name, n["plain"].name) == (
        "outside",
        "engine-net",
        "other_plain",
    )
    v = spec.volumes
    assert (v["data"].name, v["data"].driver_opts) == ("other_data", {"type": "tmpfs"})
    assert (v["ext"].name, v["own"].name) == ("ext", "my-data")
    assert spec.containers["web"].networks == (
        S.NetworkAttachment("backend", ("api", "www")),
        S.NetworkAttachment("plain"),
    )


# --- images ---------------------------------------------------------------------------------


def test_images(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "web" / "Dockerfile.prod").write_text("FROM scratch\n")
    spec = load(
        tmp_path,
        """\
        images:
          base:
            pull: localhost:5000/stand-in/busybox:1
          short: localhost:5000/stand-in/busybox:2
          always: {pull: "stand-in/busybox:latest", policy: always}
          web:
            build:
              context: ./web
              dockerfile: Dockerfile.prod
              args: {VERSION: "1.2"}
              target: runtime
              labels: {a: b}
          web2:
            build: web
            tag: shop/web2:v2
          tools:
            commit:
              from: base
              run:
                - mkdir -p /opt/tools
              changes:
                cmd: sh -c 'sleep 1'
                env: {MODE: tools}
                workdir: /opt/tools
                expose: ["8080", 9090, "53/udp"]
                entrypoint: [/bin/sh]
                user: "1000"
                labels: {x: y}
        containers:
          web: {image: web}
          tool: {image: tools}
        """,
    )
    images = spec.images
    assert images["base"].kind == "pull"
    assert images["base"].reference == "localhost:5000/stand-in/busybox:1"
    assert images["base"].policy == "if-missing"
    assert images["short"].reference == "localhost:5000/stand-in/busybox:2"
    assert images["always"].policy == "always"
    assert images["web"].kind == "build"
    assert images["web"].reference == "shop/web:latest"
    assert images["web"].build == S.BuildSpec(
        str(tmp_path / "web"), "Dockerfile.prod", {"VERSION": "1.2"}, "runtime", {"a": "b"}
    )
    assert images["web2"].reference == "shop/web2:v2"
    assert images["web2"].build == S.BuildSpec(str(tmp_path / "web"))
    tools = images["tools"]
    assert (tools.kind, tools.reference) == ("commit", "shop/tools:latest")
    assert tools.commit == S.CommitSpec(
        "base",
        ("mkdir -p /opt/tools",),
        S.CommitChanges(
            cmd=("sh", "-c", "sleep 1"),
            entrypoint=("/bin/sh",),
            env={"MODE": "tools"},
            workdir="/opt/tools",
            expose=("8080", "9090", "53/udp"),
            user="1000",
            labels={"x": "y"},
        ),
    )
    assert spec.image_reference("tools") == "shop/tools:latest"
    assert spec.image_reference("busybox:1") == "busybox:1"
    assert images["tools"].location == Location(str(tmp_path / "spec.yaml"), 18, 3)


def test_project_override_names_default_tags(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    spec = load(tmp_path, "images:\n  app: {build: .}\n", project="t-123")
    assert spec.images["app"].reference == "t-123/app:latest"
    assert spec.path == str(tmp_path / "spec.yaml")


@pytest.mark.parametrize(
    "ref",
    [
        "busybox",
        "busybox:1",
        "localhost:5000/stand-in/busybox:1",
        "stand-in/busybox:latest",
        "registry.example.com/a/b/c:v1.2-x_y",
        "busybox@sha256:" + "a" * 64,
        "[::1]:5000/x:1",
    ],
)
def test_valid_references(ref):
    assert reference_problem(ref) is None


@pytest.mark.parametrize("ref", ["", "Busybox", "a b", "busybox::1", "-x", "x:", "x/:1", ":1"])
def test_invalid_references(ref):
    assert reference_problem(ref) is not None


def test_merge_keys_and_extension_fields(tmp_path):
    spec = load(
        tmp_path,
        """\
        x-defaults: &defaults
          image: "busybox:1"
          restart: always
          labels: {team: a}
        containers:
          a:
            <<: *defaults
            labels: {team: b}
          b:
            <<: *defaults
        """,
    )
    assert spec.containers["a"].labels == {"team": "b"}
    assert spec.containers["b"].labels == {"team": "a"}
    assert spec.containers["b"].restart == S.RestartPolicy("always")


def test_default_network_needs_no_declaration(tmp_path):
    web = container(tmp_path, "    networks: {default: {aliases: [www]}}\n")
    assert web.networks == (S.NetworkAttachment("default", ("www",)),)


def test_external_network_with_options_is_an_error(tmp_path):
    from reconciler.errors import SpecError

    with pytest.raises(SpecError) as info:
        load(tmp_path, "networks:\n  shared: {external: true, driver: overlay}\n")
    assert [p.message for p in info.value.problems] == [
        "an external network is created outside this spec: `driver` cannot be set"
    ]
