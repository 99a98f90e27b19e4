"""The engine adapter against the real engine: observe is a constant number of API calls,
configs translate to what `docker inspect` shows, and engine failures become the project's
errors with messages a user understands."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from reconciler.engine import Engine
from reconciler.errors import Conflict, EngineUnavailable, ImageError, NotFound
from reconciler.model import labels as labels_mod
from tests.polling import wait_for

LABEL_PROJECT = labels_mod.LABEL_PROJECT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(docker_client) -> Iterator[Engine]:
    eng = Engine.connect()
    yield eng
    eng.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(project: str, key: str, image: str, replica: int = 1, **fields: Any) -> dict:
    """A normalised config as model/config.container_config() builds it."""
    base: dict[str, Any] = {
        "name": f"{project}-{key}-{replica}",
        "image": image,
        "image_id": None,
        "command": ["sleep", "300"],
        "entrypoint": None,
        "env": {},
        "ports": [],
        "volumes": [],
        "workdir": None,
        "user": None,
        "restart": {"name": "no", "max_retries": 0},
        "healthcheck": None,
        "labels": {},
        "exec": [],
        "stop_timeout": 1,
        "hostname": None,
        "networks": [],
    }
    base.update(fields)
    return base


def labels_for(project: str, cfg: dict, key: str, replica: int = 1) -> dict[str, str]:
    labels = labels_mod.ownership_labels(project, key, "container", replica)
    labels[labels_mod.LABEL_CONFIG_HASH] = labels_mod.config_hash(cfg)
    labels[labels_mod.LABEL_CONFIG] = labels_mod.canonical_json(cfg)
    return labels


def create(engine: Engine, project: str, key: str, image: str, replica: int = 1, **fields) -> str:
    cfg = config(project, key, image, replica, **fields)
    return engine.create_container(cfg, labels_for(project, cfg, key, replica))


# --- connect ----------------------------------------------------------------------------------


def test_connect_to_missing_engine_says_how_to_start_one(tmp_path):
    with pytest.raises(EngineUnavailable) as info:
        Engine.connect(base_url=f"unix://{tmp_path}/no-such.sock", timeout=2)
    message = str(info.value)
    assert f"{tmp_path}/no-such.sock" in message
    assert "engine-setup.sh" in message and "DOCKER_HOST" in message


def test_connect_honours_docker_host(monkeypatch, engine):
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    with Engine.connect() as eng:
        assert eng.address == "unix:///var/run/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    with pytest.raises(EngineUnavailable, match=r"tcp://127\.0\.0\.1:1"):
        Engine.connect(timeout=2)


# --- observe ----------------------------------------------------------------------------------


def test_observe_costs_the_same_number_of_calls_for_1_and_5_containers(engine, project, images):
    create(engine, project, "web", images.base, 1)
    before = engine.api_calls
    state = engine.observe(project)
    calls_for_one = engine.api_calls - before
    assert len(state.containers) == 1

    for replica in range(2, 6):
        create(engine, project, "web", images.base, replica)
    before = engine.api_calls
    state = engine.observe(project)
    calls_for_five = engine.api_calls - before

    assert len(state.containers) == 5
    assert calls_for_one == calls_for_five == 4
    assert [c.replica for c in state.containers] == [1, 2, 3, 4, 5]


def test_observe_reports_status_health_exit_code_labels_and_config(
    engine, project, images, docker_client
):
    healthy_cfg = config(
        project,
        "api",
        images.base,
        healthcheck={
            "test": ["CMD", "true"],
            "interval": 0.1,
            "timeout": 1.0,
            "retries": 1,
            "start_period": None,
        },
        ports=[
            {"container_port": 8080, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": None}
        ],
    )
    api = engine.create_container(healthy_cfg, labels_for(project, healthy_cfg, "api"))
    engine.start_container(api)
    job_cfg = config(project, "job", images.base, command=["sh", "-c", "exit 3"])
    job = engine.create_container(job_cfg, labels_for(project, job_cfg, "job"))
    engine.start_container(job)
    bad_cfg = config(project, "bad", images.base)
    bad_labels = {**labels_for(project, bad_cfg, "bad"), labels_mod.LABEL_CONFIG: "{not json"}
    engine.create_container(bad_cfg, bad_labels)
    foreign = docker_client.containers.create(images.base, name=f"{project}-foreign")

    def settled():
        state = engine.observe(project)
        by_key = {c.key: c for c in state.containers}
        ok = by_key["api"].health == "healthy" and by_key["job"].status == "exited"
        return state if ok else None

    state = wait_for(settled, what="api healthy and job exited")
    by_key = {c.key: c for c in state.containers}
    assert set(by_key) == {"api", "job", "bad"}

    web = by_key["api"]
    assert web.id == api and web.name == f"{project}-api-1"
    assert web.status == "running" and web.running
    assert web.project == project and web.replica == 1
    assert web.config_hash == labels_mod.config_hash(healthy_cfg)
    assert web.config == json.loads(labels_mod.canonical_json(healthy_cfg))
    assert web.labels[LABEL_PROJECT] == project
    assert web.image == images.base
    assert web.image_id == docker_client.images.get(images.base).id
    assert len(web.ports) == 1 and web.ports[0].startswith("127.0.0.1:")
    assert web.ports[0].endswith("->8080/tcp")
    assert web.exit_code is None

    assert by_key["job"].exit_code == 3 and not by_key["job"].running
    assert by_key["job"].health is None
    assert by_key["bad"].status == "created" and by_key["bad"].config is None
    assert by_key["bad"].config_hash == labels_mod.config_hash(bad_cfg)

    assert state.foreign_names[f"{project}-foreign"] == foreign.id
    assert f"{project}-foreign" not in {c.name for c in state.containers}
    users = state.image_users[web.image_id]
    assert {f"{project}-api-1", f"{project}-job-1", f"{project}-foreign"} <= set(users)
    assert state.image_id(images.base) == web.image_id
    assert state.image_id("stand-in/busybox") == web.image_id
    assert state.images[images.base2].id == docker_client.images.get(images.base2).id


def test_observe_reports_project_images_networks_and_volumes(engine, project, images):
    box = create(engine, project, "box", images.base)
    docker_api = engine._api
    committed = docker_api.commit(
        box,
        repository=f"{project}/made",
        tag="latest",
        conf={"Labels": {LABEL_PROJECT: project, labels_mod.LABEL_NAME: "made"}},
    )
    net_id = engine.create_network(f"{project}_back", labels={LABEL_PROJECT: project})
    engine.create_volume(f"{project}_data", labels={LABEL_PROJECT: project})

    state = engine.observe(project)
    assert [i.id for i in state.project_images] == [committed["Id"]]
    assert state.project_images[0].tags == (f"{project}/made:latest",)
    assert state.image_id(f"{project}/made") == committed["Id"]
    assert state.networks[f"{project}_back"].id == net_id
    assert state.networks[f"{project}_back"].driver == "bridge"
    assert state.volumes[f"{project}_data"].labels[LABEL_PROJECT] == project
    assert engine.observe("no-such-project-" + project).containers == ()


def test_observe_of_a_project_with_nothing(engine, project):
    state = engine.observe(project)
    assert state.containers == () and state.networks == {} and state.volumes == {}
    assert state.images  # every local image, whatever the project


# --- create -----------------------------------------------------------------------------------


def test_create_translates_the_config(engine, project, images, docker_client, tmp_path):
    port = free_port()
    engine.create_volume(f"{project}_data", labels={LABEL_PROJECT: project})
    net = f"{project}_front"
    engine.create_network(net, labels={LABEL_PROJECT: project})
    net2 = f"{project}_back"
    engine.create_network(net2, labels={LABEL_PROJECT: project})
    (tmp_path / "hello.txt").write_text("hi")
    cfg = config(
        project,
        "web",
        images.base,
        command=["-c", "sleep 300"],
        entrypoint=["sh"],
        env={"A": "1", "B": "two words"},
        ports=[
            {"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": port},
            {"container_port": 53, "protocol": "udp", "host_ip": "127.0.0.1", "host_port": None},
        ],
        volumes=[
            {"target": "/cache", "source": None, "kind": "anonymous", "read_only": False},
            {"target": "/data", "source": "data", "kind": "volume", "read_only": False},
            {"target": "/host", "source": str(tmp_path), "kind": "bind", "read_only": True},
        ],
        workdir="/tmp",
        user="nobody",
        restart={"name": "on-failure", "max_retries": 3},
        healthcheck={
            "test": ["CMD-SHELL", "true"],
            "interval": 1.5,
            "timeout": 2.0,
            "retries": 4,
            "start_period": 0.5,
        },
        labels={"tier": "front", LABEL_PROJECT: "overridden"},
        stop_timeout=7,
        hostname="webhost",
        networks=[
            {"network": "front", "aliases": ["www"]},
            {"network": "back", "aliases": ["api", "web"]},
        ],
    )
    cid = engine.create_container(
        cfg,
        labels_for(project, cfg, "web"),
        volume_names={"data": f"{project}_data"},
        network_names={"front": net, "back": net2},
    )
    engine.start_container(cid)
    raw = docker_client.api.inspect_container(cid)
    c, hc = raw["Config"], raw["HostConfig"]

    assert raw["Name"] == f"/{project}-web-1"
    assert c["Image"] == images.base
    assert c["Entrypoint"] == ["sh"] and c["Cmd"] == ["-c", "sleep 300"]
    assert {"A=1", "B=two words"} <= set(c["Env"])
    assert c["WorkingDir"] == "/tmp" and c["User"] == "nobody" and c["Hostname"] == "webhost"
    assert c["StopTimeout"] == 7
    assert c["Labels"]["tier"] == "front"
    assert c["Labels"][LABEL_PROJECT] == project  # ownership labels win over config labels
    assert c["Labels"][labels_mod.LABEL_CONFIG_HASH] == labels_mod.config_hash(cfg)
    assert c["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 1_500_000_000,
        "Timeout": 2_000_000_000,
        "StartPeriod": 500_000_000,
        "Retries": 4,
    }
    assert set(c["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert hc["PortBindings"]["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    ports = raw["NetworkSettings"]["Ports"]
    assert ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    assert int(ports["53/udp"][0]["HostPort"]) > 0  # the engine picked one

    mounts = {m["Destination"]: m for m in raw["Mounts"]}
    assert mounts["/data"]["Type"] == "volume" and mounts["/data"]["Name"] == f"{project}_data"
    assert mounts["/host"]["Type"] == "bind" and mounts["/host"]["Source"] == str(tmp_path)
    assert mounts["/host"]["RW"] is False and mounts["/data"]["RW"] is True
    assert mounts["/cache"]["Type"] == "volume" and len(mounts["/cache"]["Name"]) == 64

    networks = raw["NetworkSettings"]["Networks"]
    assert set(networks) == {net, net2}
    assert "www" in networks[net]["Aliases"]
    assert {"api", "web"} <= set(networks[net2]["Aliases"])

    code, out = engine.exec_run(cid, ["cat", "/host/hello.txt"], user="root")  # tmp is 0700
    assert (code, out) == (0, "hi")
    assert engine.anonymous_volumes(cid) == {"/cache": mounts["/cache"]["Name"]}
    engine.remove_container(cid, volumes=True)


def test_create_with_a_name_in_use_is_a_conflict(engine, project, images):
    create(engine, project, "web", images.base)
    with pytest.raises(Conflict, match=f"{project}-web-1.*already in use"):
        create(engine, project, "web", images.base)


def test_create_with_a_missing_image_is_not_found(engine, project):
    with pytest.raises(NotFound, match=f"{project}-web-1.*stand-in/busybox:no-such-tag"):
        create(engine, project, "web", "stand-in/busybox:no-such-tag")


def test_start_with_a_host_port_taken_is_a_conflict(engine, project, images):
    port = free_port()
    published = [
        {"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": port}
    ]
    first = create(engine, project, "a", images.base, ports=published)
    engine.start_container(first)
    second = create(engine, project, "b", images.base, ports=published)
    with pytest.raises(Conflict) as info:
        engine.start_container(second)
    assert str(info.value) == (
        f"cannot start container {project}-b-1: host port 127.0.0.1:{port} already in use"
    )


def test_start_of_a_missing_container_is_not_found(engine, project):
    with pytest.raises(NotFound, match=f"{project}-gone"):
        engine.start_container(f"{project}-gone")


# --- lifecycle --------------------------------------------------------------------------------


def test_stop_and_remove_of_a_vanished_container_are_fine(engine, project, images, docker_client):
    cid = create(engine, project, "web", images.base)
    engine.start_container(cid)
    docker_client.api.remove_container(cid, force=True)
    engine.stop_container(cid)
    engine.stop_container(cid, timeout=0)
    engine.remove_container(cid)
    engine.remove_container(cid, volumes=True)
    with pytest.raises(NotFound):
        engine.inspect_container(cid)


def test_stop_start_and_inspect(engine, project, images):
    cid = create(engine, project, "web", images.base)
    info = engine.inspect_container(cid)
    assert info["status"] == "created" and not info["running"] and info["started_at"] is None
    engine.start_container(cid)
    info = engine.inspect_container(cid)
    assert info["id"] == cid and info["name"] == f"{project}-web-1"
    assert info["status"] == "running" and info["running"] and info["started_at"]
    assert info["health"] is None
    engine.stop_container(cid, timeout=0)
    engine.stop_container(cid)  # already stopped: fine
    info = engine.inspect_container(cid)
    assert info["status"] == "exited" and not info["running"]
    assert info["exit_code"] == 137  # `sleep` as PID 1 ignores SIGTERM: killed


def test_rename(engine, project, images):
    cid = create(engine, project, "web", images.base)
    other = create(engine, project, "db", images.base)
    engine.rename_container(cid, f"{project}-web-1-old")
    assert engine.inspect_container(cid)["name"] == f"{project}-web-1-old"
    with pytest.raises(Conflict, match=f"{project}-db-1 is already in use"):
        engine.rename_container(cid, f"{project}-db-1")
    assert engine.inspect_container(other)["name"] == f"{project}-db-1"
    with pytest.raises(NotFound):
        engine.rename_container(f"{project}-nothing", f"{project}-x")


def test_exec_run_returns_exit_code_and_combined_output(engine, project, images):
    cid = create(engine, project, "web", images.base)
    with pytest.raises(Conflict, match="not running"):
        engine.exec_run(cid, ["true"])
    engine.start_container(cid)
    code, out = engine.exec_run(cid, ["sh", "-c", "echo out; echo err >&2; exit 4"])
    assert code == 4
    assert "out" in out and "err" in out
    assert engine.exec_run(cid, ["cat", "/etc/stand-in-version"]) == (0, "stand-in 1\n")
    code, out = engine.exec_run(cid, ["no-such-binary"])
    assert code in (126, 127) and "no-such-binary" in out


def test_changed_paths(engine, project, images):
    cid = create(engine, project, "web", images.base)
    engine.start_container(cid)
    assert engine.changed_paths(cid) == (0, [])
    engine.exec_run(cid, ["sh", "-c", "touch /tmp/a /tmp/b /tmp/c && rm /etc/stand-in-version"])
    count, paths = engine.changed_paths(cid, limit=2)
    assert count == 6  # C /etc, D /etc/stand-in-version, C /tmp, A /tmp/a, /tmp/b, /tmp/c
    assert len(paths) == 2


def test_anonymous_volumes_carry_over_to_the_replacement(engine, project, images, docker_client):
    anonymous = [{"target": "/cache", "source": None, "kind": "anonymous", "read_only": False}]
    old = create(engine, project, "web", images.base, volumes=anonymous)
    engine.start_container(old)
    assert engine.exec_run(old, ["sh", "-c", "echo kept > /cache/file"])[0] == 0
    carry = engine.anonymous_volumes(old)
    assert list(carry) == ["/cache"] and len(carry["/cache"]) == 64
    volume = carry["/cache"]
    try:
        engine.stop_container(old, timeout=0)
        engine.rename_container(old, f"{project}-web-1-old")
        cfg = config(project, "web", images.base, volumes=anonymous, env={"V": "2"})
        new = engine.create_container(cfg, labels_for(project, cfg, "web"), carry)
        engine.remove_container(old, volumes=False)
        engine.start_container(new)
        assert engine.exec_run(new, ["cat", "/cache/file"]) == (0, "kept\n")
        assert engine.anonymous_volumes(new) == {"/cache": volume}
        engine.remove_container(new, volumes=True)
        assert volume not in {v.name for v in docker_client.volumes.list()}
    finally:
        for v in docker_client.volumes.list():
            if v.name == volume:
                v.remove(force=True)


# --- images -----------------------------------------------------------------------------------


def test_pull_returns_the_image_id_and_reports_progress(engine, images, docker_client):
    events: list[dict] = []
    image = engine.pull(images.v2, events.append)
    assert image == docker_client.images.get(images.v2).id
    assert events and all(isinstance(e, dict) for e in events)
    assert engine.image_id(images.v2) == image
    assert engine.image_id("stand-in/busybox:no-such-tag") is None


def test_pull_of_a_missing_tag_names_the_reference(engine, images):
    reference = f"{images.registry}/stand-in/busybox:no-such-tag"
    with pytest.raises(ImageError) as info:
        engine.pull(reference)
    assert reference in str(info.value)
    assert "no such image or tag" in str(info.value)


def test_pull_from_an_unreachable_registry_names_the_cause(engine):
    reference = f"127.0.0.1:{free_port()}/stand-in/busybox:1"
    with pytest.raises(ImageError) as info:
        engine.pull(reference)
    assert reference in str(info.value) and "cannot reach the registry" in str(info.value)


def test_remove_image_in_use_is_a_conflict_and_missing_is_fine(engine, project, images):
    box = create(engine, project, "box", images.base)
    ref = f"{project}/made:1"
    engine._api.commit(
        box, repository=f"{project}/made", tag="1", conf={"Labels": {LABEL_PROJECT: project}}
    )
    create(engine, project, "user", ref)
    with pytest.raises(Conflict, match=f"{project}/made:1"):
        engine.remove_image(ref)
    engine.remove_image(f"{project}/never-made:1")


def test_remove_unused_image(engine, project, images):
    box = create(engine, project, "box", images.base)
    ref = f"{project}/made:1"
    engine._api.commit(box, repository=f"{project}/made", tag="1")
    assert engine.image_id(ref)
    engine.remove_image(ref)
    assert engine.image_id(ref) is None


# --- networks, volumes, events -----------------------------------------------------------


def test_networks_and_volumes(engine, project):
    name = f"{project}_net"
    engine.create_network(name, labels={LABEL_PROJECT: project}, internal=True)
    with pytest.raises(Conflict):
        engine.create_network(name, labels={LABEL_PROJECT: project})
    engine.remove_network(name)
    engine.remove_network(name)  # gone: fine
    volume = f"{project}_vol"
    assert engine.create_volume(volume, labels={LABEL_PROJECT: project}) == volume
    engine.remove_volume(volume)
    engine.remove_volume(volume)  # gone: fine


def test_events_between_two_times(engine, project, images):
    since = time.time() - 1
    cid = create(engine, project, "web", images.base)
    engine.start_container(cid)
    until = time.time() + 1
    stream = engine.events(
        filters={"label": f"{LABEL_PROJECT}={project}", "type": "container"},
        since=since,
        until=until,
    )
    actions = [(e.get("Action"), e.get("id")) for e in stream]
    assert ("create", cid) in actions and ("start", cid) in actions


def test_list_containers_by_label(engine, project, images):
    create(engine, project, "web", images.base)
    create(engine, project, "db", images.base)
    found = engine.list_containers_by_label(f"{LABEL_PROJECT}={project}")
    assert sorted(c.key for c in found) == ["db", "web"]
    found = engine.list_containers_by_label(
        [f"{LABEL_PROJECT}={project}", f"{labels_mod.LABEL_NAME}=db"]
    )
    assert [c.name for c in found] == [f"{project}-db-1"]


def test_events_stream_ends_when_closed_from_another_thread(engine, project, images):
    stream = engine.events(filters={"label": f"{LABEL_PROJECT}={project}"})
    seen: list[dict] = []
    done = threading.Event()

    def follow():
        seen.extend(stream)  # ends without an exception once closed
        done.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    cid = create(engine, project, "web", images.base)
    wait_for(lambda: any(e.get("id") == cid for e in seen), what="the create event")
    stream.close()
    assert done.wait(10), "the event stream did not end after close()"
    assert seen[0]["Action"] == "create"


def test_parallel_calls_are_counted_exactly(engine, project, images):
    before = engine.api_calls
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: create(engine, project, "web", images.base, i), range(1, 9)))
    assert engine.api_calls - before == 8
    assert len(set(ids)) == 8
    assert len(engine.observe(project).containers) == 8
