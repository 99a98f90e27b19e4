"""The planner without Docker: tables of (desired spec, observed state) -> expected changes, and
the executor against a hand-written fake engine (tests/unit/fake_engine.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from msgspec.structs import replace

from reconciler.model.config import container_config
from reconciler.model.labels import (
    aside_name,
    canonical_json,
    config_hash,
)
from reconciler.model.plan import Action, FieldDiff
from reconciler.model.spec import (
    ContainerSpec,
    Dependency,
    Healthcheck,
    ImageSpec,
    Mount,
    PortBinding,
    RestartPolicy,
    Spec,
    container_name,
)
from reconciler.model.state import ObservedContainer, ObservedImage, State
from reconciler.plan.diff import diff_configs
from reconciler.plan.planner import PlanOptions, plan

PROJECT = "p"
IMG = "reg.local/app:1"
IMG2 = "reg.local/app:2"
ID1 = "sha256:" + "1" * 64
ID2 = "sha256:" + "2" * 64


def ctr(key: str = "web", **fields: Any) -> ContainerSpec:
    fields.setdefault("image", IMG)
    fields.setdefault("command", ("httpd", "-f"))
    return ContainerSpec(key=key, **fields)


def make_spec(*containers: ContainerSpec, images: dict[str, ImageSpec] | None = None) -> Spec:
    return Spec(
        project=PROJECT,
        path="/spec.yaml",
        images=images or {},
        containers={c.key: c for c in containers},
    )


@dataclass(frozen=True)
class Obs:
    """An observed container, described by the spec entry it was created from."""

    container: ContainerSpec
    replica: int = 1
    status: str = "running"
    exit_code: int | None = None
    image_id: str = ID1
    name: str | None = None  # default: the spec's container name
    created: int = 1
    images: tuple[ImageSpec, ...] = ()  # the spec's images it was created with
    health: str | None = None


def observed(o: Obs, n: int) -> ObservedContainer:
    spec = make_spec(o.container, images={i.key: i for i in o.images})
    cfg = container_config(spec, o.container, o.replica, o.image_id)
    return ObservedContainer(
        id=f"{n:02d}".ljust(64, "c"),
        name=o.name or container_name(PROJECT, o.container, o.replica),
        project=PROJECT,
        key=o.container.key,
        replica=o.replica,
        status=o.status,
        health=o.health,
        exit_code=o.exit_code,
        image=cfg["image"],
        image_id=o.image_id,
        config_hash=config_hash(cfg),
        config=json.loads(canonical_json(cfg)),  # as the engine reads the label back
    )


def make_state(
    *obs: Obs,
    foreign: dict[str, str] | None = None,
    images: dict[str, str] | None = None,
) -> State:
    refs = {IMG: ID1, IMG2: ID2} if images is None else images
    return State(
        project=PROJECT,
        containers=tuple(observed(o, n) for n, o in enumerate(obs, 1)),
        foreign_names=foreign or {},
        images={ref: ObservedImage(image_id, (ref,)) for ref, image_id in refs.items()},
    )


@dataclass(frozen=True)
class Case:
    id: str
    desired: tuple[ContainerSpec, ...]
    observed: tuple[Obs, ...]
    # (action, address, reason fragment, diff paths) for every container change, plan order
    expected: tuple[tuple[str, str, str, tuple[str, ...]], ...]
    prune: bool = True
    foreign: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    warning: str | None = None


WEB = ctr()
ENV = ctr(env={"A": "1", "B": "2"})
PORTS = ctr(
    ports=(
        PortBinding(8080, host_ip="127.0.0.1", host_port=18080),
        PortBinding(9090, "udp", "127.0.0.1", 19090),
    )
)
VOLS = ctr(volumes=(Mount("/data", "data"), Mount("/cache"), Mount("/etc/x", "/srv/x", "bind")))
HC = Healthcheck(("CMD", "true"), interval=1.0, timeout=1.0, retries=3)
W1 = "container.web[1]"

CASES = [
    Case("create", (WEB,), (), (("create", W1, "does not exist", ()),)),
    Case(
        "create stopped",
        (ctr(state="stopped"),),
        (),
        (("create", W1, "created stopped", ()),),
    ),
    Case("unchanged", (WEB,), (Obs(WEB),), (("unchanged", W1, "up to date", ()),)),
    Case(
        "start an exited container",
        (WEB,),
        (Obs(WEB, status="exited", exit_code=137),),
        (("start", W1, "exited (code 137)", ()),),
    ),
    Case(
        "start a created container",
        (WEB,),
        (Obs(WEB, status="created"),),
        (("start", W1, "created; should be running", ()),),
    ),
    Case(
        "stop",
        (ctr(state="stopped"),),
        (Obs(ctr(state="stopped")),),
        (("stop", W1, "state stopped", ()),),
    ),
    Case(
        "stopped and should be",
        (ctr(state="stopped"),),
        (Obs(ctr(state="stopped"), status="exited", exit_code=0),),
        (("unchanged", W1, "up to date", ()),),
    ),
    Case(
        "state is left out of the hash",
        (ctr(state="stopped"),),
        (Obs(WEB),),
        (("stop", W1, "state stopped", ()),),
    ),
    Case(
        "replace: env",
        (ctr(env={"A": "1", "B": "3", "C": "4"}),),
        (Obs(ENV),),
        (("replace", W1, "changed: env", ("env.B", "env.C")),),
    ),
    Case(
        "replace: command",
        (ctr(command=("httpd", "-f", "-v")),),
        (Obs(WEB),),
        (("replace", W1, "changed: command", ("command",)),),
    ),
    Case(
        "replace: entrypoint and workdir",
        (ctr(entrypoint=("/bin/sh",), workdir="/srv"),),
        (Obs(WEB),),
        (("replace", W1, "changed: entrypoint, workdir", ("entrypoint", "workdir")),),
    ),
    Case(
        "replace: ports",
        (
            ctr(
                ports=(
                    PortBinding(8080, host_ip="127.0.0.1", host_port=18081),
                    PortBinding(9090, "udp", "127.0.0.1", 19090),
                )
            ),
        ),
        (Obs(PORTS),),
        (("replace", W1, "changed: ports", ("ports[0]",)),),
    ),
    Case(
        "replace: a port added",
        (ctr(ports=(PortBinding(8080, host_ip="127.0.0.1", host_port=18080),)),),
        (Obs(WEB),),
        (("replace", W1, "changed: ports", ("ports",)),),
    ),
    Case(
        "replace: volumes",
        (
            ctr(
                volumes=(
                    Mount("/data", "other"),
                    Mount("/cache"),
                    Mount("/etc/x", "/srv/x", "bind"),
                )
            ),
        ),
        (Obs(VOLS),),
        (("replace", W1, "changed: volumes", ("volumes[1]",)),),  # sorted by target
    ),
    Case(
        "replace: a volume made read-only",
        (
            ctr(
                volumes=(
                    Mount("/data", "data"),
                    Mount("/cache"),
                    Mount("/etc/x", "/srv/x", "bind", read_only=True),
                )
            ),
        ),
        (Obs(VOLS),),
        (("replace", W1, "changed: volumes", ("volumes[2]",)),),
    ),
    Case(
        "replace: image id (the tag moved)",
        (WEB,),
        (Obs(WEB, image_id=ID2),),
        (("replace", W1, "changed: image_id", ("image_id",)),),
    ),
    Case(
        "replace: image reference",
        (ctr(image=IMG2),),
        (Obs(WEB),),
        (("replace", W1, "changed: image, image_id", ("image", "image_id")),),
    ),
    Case(
        "replace: labels",
        (ctr(labels={"tier": "back", "team": "a"}),),
        (Obs(ctr(labels={"tier": "front", "team": "a"})),),
        (("replace", W1, "changed: labels", ("labels.tier",)),),
    ),
    Case(
        "replace: restart",
        (ctr(restart=RestartPolicy("on-failure", 3)),),
        (Obs(WEB),),
        (("replace", W1, "changed: restart", ("restart.max_retries", "restart.name")),),
    ),
    Case(
        "replace: healthcheck added",
        (ctr(healthcheck=HC),),
        (Obs(WEB),),
        (("replace", W1, "changed: healthcheck", ("healthcheck",)),),
    ),
    Case(
        "replace: healthcheck interval",
        (ctr(healthcheck=replace(HC, interval=2.0)),),
        (Obs(ctr(healthcheck=HC)),),
        (("replace", W1, "changed: healthcheck", ("healthcheck.interval",)),),
    ),
    Case(
        "replace: exec hooks and stop_timeout",
        (ctr(exec=(("touch", "/x"),), stop_timeout=1.0),),
        (Obs(WEB),),
        (("replace", W1, "changed: exec, stop_timeout", ("exec", "stop_timeout")),),
    ),
    Case(
        "reordered env is unchanged",
        (ctr(env={"B": "2", "A": "1"}),),
        (Obs(ENV),),
        (("unchanged", W1, "up to date", ()),),
    ),
    Case(
        "reordered ports are unchanged",
        (ctr(ports=tuple(reversed(PORTS.ports))),),
        (Obs(PORTS),),
        (("unchanged", W1, "up to date", ()),),
    ),
    Case(
        "reordered volumes are unchanged",
        (ctr(volumes=tuple(reversed(VOLS.volumes))),),
        (Obs(VOLS),),
        (("unchanged", W1, "up to date", ()),),
    ),
    Case(
        "reordered labels are unchanged",
        (ctr(labels={"b": "2", "a": "1"}),),
        (Obs(ctr(labels={"a": "1", "b": "2"})),),
        (("unchanged", W1, "up to date", ()),),
    ),
    Case(
        "replicas and depends_on are left out of the hash",
        (ctr(replicas=1, depends_on=(Dependency("db"),)), ctr("db")),
        (Obs(WEB), Obs(ctr("db"))),
        (
            ("unchanged", "container.db[1]", "up to date", ()),
            ("unchanged", W1, "up to date", ()),
        ),
    ),
    Case(
        "replicas 3 -> 1 removes 3 then 2",
        (WEB,),
        (Obs(WEB, 1), Obs(WEB, 2), Obs(WEB, 3)),
        (
            ("unchanged", W1, "up to date", ()),
            ("remove", "container.web[3]", "replica 3 > replicas 1", ()),
            ("remove", "container.web[2]", "replica 2 > replicas 1", ()),
        ),
    ),
    Case(
        "replicas 1 -> 2",
        (ctr(replicas=2),),
        (Obs(WEB, 1),),
        (
            ("unchanged", W1, "up to date", ()),
            ("create", "container.web[2]", "does not exist", ()),
        ),
    ),
    Case(
        "replicas 0",
        (ctr(replicas=0),),
        (Obs(WEB, 1),),
        (("remove", W1, "replica 1 > replicas 0", ()),),
    ),
    Case(
        "state absent",
        (ctr(state="absent", replicas=2),),
        (Obs(WEB, 1), Obs(WEB, 2)),
        (
            ("remove", "container.web[2]", "state absent", ()),
            ("remove", W1, "state absent", ()),
        ),
    ),
    Case(
        "state absent and nothing there",
        (ctr(state="absent"),),
        (),
        (),
    ),
    Case(
        "prune",
        (WEB,),
        (Obs(WEB), Obs(ctr("old"), 1), Obs(ctr("old"), 2)),
        (
            ("unchanged", W1, "up to date", ()),
            ("remove", "container.old[2]", "no longer in the spec", ()),
            ("remove", "container.old[1]", "no longer in the spec", ()),
        ),
    ),
    Case(
        "no prune",
        (WEB,),
        (Obs(WEB), Obs(ctr("old"))),
        (("unchanged", W1, "up to date", ()),),
        prune=False,
        warning="p-old-1: not in the spec; kept (--no-prune)",
    ),
    Case(
        "foreign name clash",
        (WEB, ctr("db")),
        (),
        (("create", "container.db[1]", "does not exist", ()),),
        foreign={"p-web-1": "f" * 64},
        error="container name p-web-1 is taken by container ffffffffffff, which this project "
        "does not own",
    ),
    Case(
        "a foreign container with another name is ignored",
        (WEB,),
        (),
        (("create", W1, "does not exist", ()),),
        foreign={"p-web-10": "f" * 64, "web": "e" * 64},
    ),
    Case(
        "aside leftover, config changed: replace it under its own name",
        (ctr(env={"A": "9"}),),
        (Obs(ENV, name=aside_name("p-web-1", "01" + "c" * 62)),),
        (("replace", W1, "restore p-web-1--old-01cccccccccc", ("env.A", "env.B")),),
    ),
    Case(
        "aside leftover, config unchanged: rename back and start",
        (WEB,),
        (Obs(WEB, status="exited", exit_code=137, name=aside_name("p-web-1", "01" * 32)),),
        (("start", W1, "restore p-web-1--old-", ()),),
    ),
    Case(
        "aside leftover next to its replacement: remove the leftover",
        (ctr(env={"A": "9"}),),
        (Obs(ENV, name=aside_name("p-web-1", "01" * 32)), Obs(ctr(env={"A": "9"}), created=2)),
        (
            ("remove", W1, "leftover of an interrupted replacement", ()),
            ("unchanged", W1, "up to date", ()),
        ),
    ),
    Case(
        "aside leftover next to a replacement still starting: restore it and replace again",
        (ctr(env={"A": "9"}),),
        (
            Obs(ENV, name=aside_name("p-web-1", "01" * 32)),
            Obs(ctr(env={"A": "9"}), created=2, health="starting"),
        ),
        (
            ("remove", W1, "never became ready", ()),
            ("replace", W1, "restore p-web-1--old-", ("env.A", "env.B")),
        ),
    ),
    Case(
        "completed dependency stays completed",
        (
            ctr("init", command=("true",)),
            ctr("app", depends_on=(Dependency("init", "completed"),)),
        ),
        (Obs(ctr("init", command=("true",)), status="exited", exit_code=0),),
        (
            ("unchanged", "container.init[1]", "completed", ()),
            ("create", "container.app[1]", "does not exist", ()),
        ),
    ),
    Case(
        "failed completion dependency runs again",
        (
            ctr("init", command=("true",)),
            ctr("app", depends_on=(Dependency("init", "completed"),)),
        ),
        (Obs(ctr("init", command=("true",)), status="exited", exit_code=2),),
        (
            ("start", "container.init[1]", "exited (code 2)", ()),
            ("create", "container.app[1]", "does not exist", ()),
        ),
    ),
]


def container_changes(result):
    return [c for c in result.changes if c.target.kind == "container"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_planner_table(case: Case) -> None:
    spec = make_spec(*case.desired)
    state = make_state(*case.observed, foreign=case.foreign)
    result = plan(spec, state, PlanOptions(prune=case.prune))
    got = container_changes(result)
    assert [(str(c.action), c.address) for c in got] == [
        (a, addr) for a, addr, _, _ in case.expected
    ]
    for change, (_, _, reason, paths) in zip(got, case.expected, strict=True):
        assert reason in change.reason, change.reason
        assert tuple(sorted(d.path for d in change.diffs)) == tuple(sorted(paths))
        for d in change.diffs:  # every diff names its before and after
            assert d.before != d.after
        if change.action is Action.REPLACE:
            assert change.before is not None and change.after is not None
            assert change.container_id is not None
    if case.error:
        assert [case.error in p.message for p in result.errors] == [True]
    else:
        assert result.errors == ()
    if case.warning:
        assert case.warning in result.warnings
    # pure and deterministic
    assert plan(spec, state, PlanOptions(prune=case.prune)) == result


def test_order_of_dependencies_and_their_edges():
    spec = make_spec(
        ctr("web", depends_on=(Dependency("api", "healthy"),), replicas=2),
        ctr("api", depends_on=(Dependency("db"),)),
        ctr("db", healthcheck=HC),
    )
    result = plan(spec, make_state())
    got = container_changes(result)
    assert [c.address for c in got] == [
        "container.db[1]",
        "container.api[1]",
        "container.web[1]",
        "container.web[2]",
    ]
    assert own_deps(got[1]) == ("container.db",) and got[1].wait_for == (("db", "started"),)
    assert own_deps(got[2]) == ("container.api",) and got[2].wait_for == (("api", "healthy"),)
    assert own_deps(got[0]) == ()


def own_deps(change) -> tuple[str, ...]:
    """Dependencies on containers and images (networks and volumes are planned elsewhere)."""
    return tuple(d for d in change.depends_on if d.startswith(("container.", "image.")))


def test_pending_image_makes_the_replacement_conditional():
    image = ImageSpec("app", "pull", IMG, policy="always")
    same = ctr(image="app")
    spec = make_spec(same, images={"app": image})
    result = plan(spec, make_state(Obs(same, images=(image,))))
    pull, change = result.changes[0], container_changes(result)[0]
    assert (pull.action, pull.address) == (Action.PULL, "image.app")
    assert change.action is Action.REPLACE and change.conditional
    assert "replaced only if its ID changes" in change.reason
    assert own_deps(change) == ("image.app",)
    assert change.diffs == ()  # the image ID is not known yet: no diff invented

    changed = make_spec(ctr(image="app", env={"A": "2"}), images={"app": image})
    (change,) = container_changes(plan(changed, make_state(Obs(same, images=(image,)))))
    assert change.action is Action.REPLACE and not change.conditional
    assert [d.path for d in change.diffs] == ["env.A"]


def test_missing_image_is_pulled_before_the_container_is_created():
    result = plan(make_spec(WEB), make_state(images={}))
    pull, create = result.changes[0], container_changes(result)[0]
    assert (pull.action, pull.target.name) == (Action.PULL, IMG)
    assert pull.reason == "missing locally"
    assert create.action is Action.CREATE and own_deps(create) == (pull.address,)
    assert create.after["image_id"] is None  # resolved by the executor after the pull


def test_never_policy_with_missing_image_is_a_plan_error():
    spec = make_spec(ctr(image="app"), images={"app": ImageSpec("app", "pull", IMG, "never")})
    result = plan(spec, make_state(images={}))
    assert len(result.errors) == 1 and "policy is `never`" in result.errors[0].message


def test_field_diffs_render_before_and_after():
    before = container_config(make_spec(ENV), ENV, 1, ID1)
    after = container_config(make_spec(ctr(env={"A": "1", "B": "b"})), ENV, 1, ID1)
    after["env"] = {"A": "1", "B": "b"}
    (diff,) = diff_configs(before, after)
    assert diff == FieldDiff("env.B", "2", "b")
    assert diff.render() == 'env.B: "2" -> "b"'
    assert FieldDiff("image_id", ID1, ID2).render() == (f'image_id: "{ID1[7:19]}" -> "{ID2[7:19]}"')
    assert (
        FieldDiff("ports[0]", None, {"container_port": 80})
        .render()
        .startswith("ports[0]: (none) -> ")
    )


def test_plan_json_has_target_reason_and_diffs():
    result = plan(make_spec(ctr(env={"A": "2", "B": "2"})), make_state(Obs(ENV)))
    body = result.to_json()
    (change,) = [c for c in body["changes"] if c["kind"] == "container"]
    assert change["action"] == "replace" and change["address"] == W1
    assert change["name"] == "p-web-1" and change["reason"] == "changed: env"
    assert change["diffs"] == [{"path": "env.A", "before": "1", "after": "2"}]
    assert body["counts"]["replace"] == 1
    json.dumps(body)  # serialisable
