"""Networks, volumes, exec and logs against the real engine, through the CLI.

Containers reach each other by key and by container name on the project's network; named
volumes keep their data across replacements, applies and `destroy` (only `destroy --volumes`
removes them); external networks and volumes are used and never touched; `exec` passes output
and exit codes through; `logs` prefixes and follows. No host port is published."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import docker.errors
import pytest

from tests.clirun import cli
from tests.integration.conftest import cleanup_project

pytestmark = pytest.mark.integration

LABEL_PROJECT = "io.reconciler.project"
ROOT = Path(__file__).resolve().parents[2]
SERVE = "trap 'exit 0' TERM; sleep 100000 & wait"  # PID 1 that stops at once on SIGTERM
# a line every 0.2 s ($$ is a literal $ in a spec)
TALK = "trap 'exit 0' TERM; i=0; while true; do echo tick $$i; i=$$((i+1)); sleep 0.2 & wait; done"


def write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text))
    return str(path)


def applied(spec: str, project: str) -> None:
    code, out, err = cli("apply", spec, "-p", project)
    assert code == 0, out + err


def no_changes(spec: str, project: str) -> None:
    code, out, err = cli("plan", spec, "-p", project, "--detailed-exitcode")
    assert code == 0, out + err


def poll(check, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# --- one project for reachability, exec and logs -------------------------------------------------

APP = """\
    version: 1
    project: ignored
    containers:
      web:
        image: {base}
        command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
        replicas: 2
        stop_timeout: 1s
      client:
        image: {base}
        command: ["sh", "-c", "{serve}"]
        stop_timeout: 1s
      talker:
        image: {base}
        stop_timeout: 1s
        command:
          - sh
          - -c
          - {talk}
      idle:
        image: {base}
        command: ["sh", "-c", "{serve}"]
        state: stopped
"""


@pytest.fixture(scope="module")
def app(docker_client, images, tmp_path_factory):
    project = f"t{uuid.uuid4().hex[:10]}"
    spec = write(
        tmp_path_factory.mktemp("app") / "app.yaml",
        APP.format(base=images.base, serve=SERVE, talk=TALK),
    )
    try:
        code, out, err = cli("plan", spec, "-p", project, "-o", "json")
        assert code == 0, out + err
        planned = json.loads(out)
        assert planned["changes"][0]["address"] == "network.default"
        assert planned["changes"][0]["action"] == "create-network"
        applied(spec, project)
        yield spec, project
    finally:
        cleanup_project(docker_client, project)


def test_containers_join_the_project_network_and_reach_each_other_by_name(app, docker_client):
    spec, project = app
    network = docker_client.networks.get(f"{project}_default")
    assert network.attrs["Labels"][LABEL_PROJECT] == project
    assert network.attrs["Labels"]["io.reconciler.kind"] == "network"
    members = {c["Name"] for c in network.attrs["Containers"].values()}
    assert {f"{project}-web-1", f"{project}-web-2", f"{project}-client-1"} <= members

    code, out, err = cli(
        "exec", spec, "client", "-p", project, "--", "wget", "-qO-", "http://web:8080/"
    )
    assert (code, out) == (0, "<h1>stand-in 1</h1>\n"), err
    # a replica by its own container name
    url = f"http://{project}-web-2:8080/"
    code, out, err = cli("exec", spec, "client", "-p", project, "--", "wget", "-qO-", url)
    assert (code, out) == (0, "<h1>stand-in 1</h1>\n"), err
    no_changes(spec, project)


def test_exec_passes_output_and_exit_code_through(app):
    spec, project = app
    script = "echo out; echo err >&2; exit 7"
    assert cli("exec", spec, "web", "--replica", "2", "-p", project, "--", "sh", "-c", script) == (
        7,
        "out\n",
        "err\n",
    )
    code, out, _ = cli("exec", spec, "web", "-p", project, "--", "sh", "-c", "hostname")
    assert code == 0 and out.strip() == docker_id(project, "web-1")[:12]


def docker_id(project: str, suffix: str) -> str:
    import docker

    client = docker.from_env()
    try:
        return client.containers.get(f"{project}-{suffix}").id
    finally:
        client.close()


def test_exec_errors_are_clear(app):
    spec, project = app
    code, _, err = cli("exec", spec, "nope", "-p", project, "--", "true")
    assert code == 1 and "no container 'nope'" in err and "client, idle, talker, web" in err
    code, _, err = cli("exec", spec, "idle", "-p", project, "--", "true")
    assert code == 1 and f"container {project}-idle-1 is not running" in err
    code, _, err = cli("exec", spec, "web", "--replica", "3", "-p", project, "--", "true")
    assert code == 1 and "web has no replica 3" in err


def test_logs_prefix_each_line_with_its_container(app):
    spec, project = app
    name = f"{project}-talker-1"

    def ticks():
        code, out, err = cli("logs", spec, "talker", "-p", project, "--tail", "3")
        assert code == 0, err
        lines = out.splitlines()
        return lines if len(lines) == 3 else None

    lines = poll(ticks, "three lines of talker logs")
    assert all(line.startswith(f"{name} | tick ") for line in lines), lines


def test_logs_follow_until_interrupted(app):
    spec, project = app
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "reconciler", "logs", spec, "talker", "web", "-f"]
    proc = subprocess.Popen(
        [*command, "--tail", "1", "-p", project],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        lines = read_lines(proc, count=4, timeout=20)
        numbers = [int(line.rsplit(" ", 1)[1]) for line in lines]
        prefix = f"{project}-talker-1 | tick "
        assert all(line.startswith(prefix) for line in lines), lines
        assert numbers == sorted(numbers) and numbers[-1] > numbers[0], numbers  # new lines
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean exit
        assert proc.wait(timeout=10) == 0
        assert b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def read_lines(proc: subprocess.Popen, count: int, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while buffer.count(b"\n") < count:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                raise AssertionError(f"only got {buffer!r} before the deadline")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"logs ended early: {buffer!r} {proc.stderr.read()!r}")
            buffer += chunk
    return buffer.decode().splitlines()[:count]


# --- networks -------------------------------------------------------------------------------------


def test_changed_network_is_recreated_and_its_containers_reconnected(
    project, images, tmp_path, docker_client
):
    text = """\
        version: 1
        project: ignored
        networks:
          back:
            labels: {{generation: "{gen}"}}
        containers:
          web:
            image: {base}
            command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
            networks:
              back: {{aliases: [site]}}
            stop_timeout: 1s
          client:
            image: {base}
            command: ["sh", "-c", "{serve}"]
            networks: [back]
            stop_timeout: 1s
    """
    spec = write(tmp_path / "net.yaml", text.format(gen=1, base=images.base, serve=SERVE))
    applied(spec, project)
    before = {
        c.name: c.id
        for c in docker_client.containers.list(filters={"label": f"{LABEL_PROJECT}={project}"})
    }
    old_net = docker_client.networks.get(f"{project}_back").id
    with pytest.raises(docker.errors.NotFound):  # an explicit list replaces the default network
        docker_client.networks.get(f"{project}_default")

    write(tmp_path / "net.yaml", text.format(gen=2, base=images.base, serve=SERVE))
    code, out, err = cli("plan", spec, "-p", project, "-o", "json")
    changes = {c["address"]: c["action"] for c in json.loads(out)["changes"]}
    assert changes == {"network.back": "replace-network"}, out
    applied(spec, project)
    new_net = docker_client.networks.get(f"{project}_back")
    assert new_net.id != old_net and new_net.attrs["Labels"]["generation"] == "2"
    after = {
        c.name: c.id
        for c in docker_client.containers.list(filters={"label": f"{LABEL_PROJECT}={project}"})
    }
    assert after == before  # reconnected, not replaced
    code, out, err = cli(
        "exec", spec, "client", "-p", project, "--", "wget", "-qO-", "http://site:8080/"
    )
    assert code == 0 and "stand-in" in out, err
    no_changes(spec, project)

    # no container left: the network goes too
    write(tmp_path / "net.yaml", "version: 1\nproject: ignored\n")
    applied(spec, project)
    assert not docker_client.networks.list(filters={"label": f"{LABEL_PROJECT}={project}"})


# --- volumes --------------------------------------------------------------------------------------


def test_named_volume_keeps_data_and_externals_are_never_touched(
    project, images, tmp_path, docker_client
):
    ext_net = docker_client.networks.create(f"{project}-ext", labels={LABEL_PROJECT: project})
    ext_vol = docker_client.volumes.create(f"{project}-extvol", labels={LABEL_PROJECT: project})
    text = """\
        version: 1
        project: ignored
        networks:
          default: {{}}
          shared: {{external: true, name: {project}-ext}}
        volumes:
          data:
            driver_opts: {{{opts}}}
          keep: {{external: true, name: {project}-extvol}}
        containers:
          db:
            image: {base}
            command: ["sh", "-c", "{serve}"]
            env: {{GENERATION: "{gen}"}}
            volumes: ["data:/data", "keep:/keep", "{project}-loose:/loose"]
            networks: [default, shared]
            stop_timeout: 1s
    """
    fmt = {"base": images.base, "serve": SERVE, "project": project, "opts": ""}
    spec = write(tmp_path / "vol.yaml", text.format(gen=1, **fmt))
    applied(spec, project)
    volume = docker_client.volumes.get(f"{project}_data")
    assert volume.attrs["Labels"]["io.reconciler.kind"] == "volume"
    loose = docker_client.volumes.get(f"{project}-loose")  # used, not declared: made, labelled
    assert loose.attrs["Labels"][LABEL_PROJECT] == project
    code, _, err = cli("exec", spec, "db", "-p", project, "--", "sh", "-c", "echo kept > /data/f")
    assert code == 0, err

    def read_data() -> str:
        code, out, err = cli("exec", spec, "db", "-p", project, "--", "cat", "/data/f")
        assert code == 0, err
        return out

    old_id = docker_id(project, "db-1")
    write(tmp_path / "vol.yaml", text.format(gen=2, **fmt))  # env change: a replacement
    applied(spec, project)
    assert docker_id(project, "db-1") != old_id
    assert read_data() == "kept\n"
    applied(spec, project)  # a second apply changes nothing and keeps the data
    no_changes(spec, project)
    assert read_data() == "kept\n"

    # a changed volume definition is refused, located, and nothing changes
    write(
        tmp_path / "vol.yaml", text.format(gen=2, **{**fmt, "opts": "type: tmpfs, device: tmpfs"})
    )
    code, out, err = cli("apply", spec, "-p", project)
    assert code == 1 and "vol.yaml:7:3: volumes.data: volume " in err, err
    assert "would lose its data" in err or "lose its data" in err
    assert docker_id(project, "db-1") != old_id and read_data() == "kept\n"
    write(tmp_path / "vol.yaml", text.format(gen=2, **fmt))

    code, out, err = cli("destroy", spec, "-p", project)
    assert code == 0, out + err
    assert docker_client.volumes.get(f"{project}_data")  # destroy keeps volumes
    assert not docker_client.networks.list(names=[f"{project}_default"])
    applied(spec, project)
    assert read_data() == "kept\n"

    code, out, err = cli("destroy", spec, "-p", project, "--volumes")
    assert code == 0, out + err
    names = {v.name for v in docker_client.volumes.list()}
    assert f"{project}_data" not in names and f"{project}-loose" not in names
    ext_net.reload()
    ext_vol.reload()  # the externals are untouched
    assert ext_net.name == f"{project}-ext" and ext_vol.name == f"{project}-extvol"


def test_missing_external_network_is_a_located_plan_error(project, images, tmp_path):
    spec = write(
        tmp_path / "ext.yaml",
        f"""\
        version: 1
        project: ignored
        networks:
          outside: {{external: true, name: {project}-nowhere}}
        containers:
          app:
            image: {images.base}
            networks: [outside]
        """,
    )
    code, _, err = cli("plan", spec, "-p", project)
    assert code == 1
    assert (
        f"ext.yaml:4:3: networks.outside: external network {project}-nowhere does not exist" in err
    )


# --- the example -------------------------------------------------------------------------------


def test_webapp_example_applies_twice_and_the_client_reaches_the_web(project, docker_client):
    spec = str(ROOT / "examples" / "webapp.yaml")
    code, out, err = cli("validate", spec)
    assert code == 0, err
    applied(spec, project)
    applied(spec, project)
    no_changes(spec, project)

    def client_ok():
        _, out, _ = cli("logs", spec, "client", "-p", project)
        return "ok: hello from web" in out

    poll(client_ok, "the client to fetch the page from web by hostname")
    code, out, err = cli(
        "exec", spec, "client", "-p", project, "--", "wget", "-qO-", "http://web:8080/hello.html"
    )
    assert (code, out) == (0, "hello from web\n"), err
