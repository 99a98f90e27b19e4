"""The planner without Docker: tables of (desired spec, observed state) -> expected changes, and
the executor against a hand-written fake engine (tests/unit/fake_engine.py)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from reconciler.errors import Conflict, EngineError
from reconciler.execute.context import ExecOptions
from reconciler.execute.scheduler import Executor
from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_CONFIG_HASH,
    aside_name,
    canonical_json,
    config_hash,
    ownership_labels,
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
    container_config,
    container_name,
)
from reconciler.model.state import ObservedContainer, ObservedImage, State
from reconciler.plan.diff import diff_configs
from reconciler.plan.planner import PlanOptions, plan
from tests.unit.fake_engine import FakeEngine

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
    assert FieldDiff("image_id", ID1, ID2).render() == (f'image_id: "{ID1[:19]}" -> "{ID2[:19]}"')
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


# --- executor against the fake engine ------------------------------------------------------------


def engine_for(*obs: Obs, images: dict[str, str] | None = None) -> FakeEngine:
    """A fake engine holding the given observed containers (labels as the executor writes)."""
    engine = FakeEngine(images={IMG: ID1, IMG2: ID2} if images is None else images)
    for o in obs:
        spec = make_spec(o.container)
        cfg = container_config(spec, o.container, o.replica, o.image_id)
        labels = ownership_labels(PROJECT, o.container.key, "container", o.replica)
        labels[LABEL_CONFIG_HASH] = config_hash(cfg)
        labels[LABEL_CONFIG] = canonical_json(cfg)
        name = o.name or cfg["name"]
        engine.add(name, labels, cfg, o.status, o.exit_code)
    return engine


def containers_only(result):
    """The plan without its network and volume changes (planned and tested elsewhere): these
    tests are about containers, and the fake engine keeps no networks or volumes."""
    keep = tuple(
        replace(c, depends_on=own_deps(c))
        for c in result.changes
        if c.target.kind in ("container", "image")
    )
    return replace(result, changes=keep)


def apply(spec: Spec, engine: FakeEngine, parallel: int = 8, prune: bool = True):
    result = containers_only(plan(spec, engine.observe(PROJECT), PlanOptions(prune=prune)))
    assert result.errors == ()
    events: list[dict] = []
    lock = threading.Lock()

    def on_event(event):
        with lock:
            events.append(event)

    executor = Executor(
        engine, PROJECT, ExecOptions(parallel=parallel, wait_timeout=2.0), on_event=on_event
    )
    outcomes = {
        f"{o.change.target.name}:{o.change.action}": o
        for o in executor.run(result)
        if o.change.action is not Action.UNCHANGED or o.change.target.kind == "container"
    }
    return outcomes, events


def status_of(outcomes, name: str, action: str) -> str:
    return outcomes[f"{name}:{action}"].status


def test_apply_converges_and_a_second_apply_changes_nothing():
    spec = make_spec(
        ctr("db", healthcheck=HC, volumes=(Mount("/data", "data"), Mount("/tmp/anon"))),
        ctr("web", replicas=3, depends_on=(Dependency("db", "healthy"),), exec=(("touch", "/x"),)),
    )
    engine = engine_for()
    outcomes, _ = apply(spec, engine)
    assert {o.status for o in outcomes.values()} == {"done"}
    assert engine.names() == {"p-db-1", "p-web-1", "p-web-2", "p-web-3"}
    assert engine.by_name("p-web-2").execs == [["touch", "/x"]]
    assert all(c.status == "running" for c in engine.containers.values())

    before = len(engine.calls)
    again = containers_only(plan(spec, engine.observe(PROJECT)))
    assert not again.has_changes
    apply(spec, engine)
    assert [c for c in engine.calls[before:] if c[0] != "observe"] == []


def test_dependency_order_and_healthy_wait():
    spec = make_spec(
        ctr("db", healthcheck=HC),
        ctr("api", depends_on=(Dependency("db", "healthy"),)),
        ctr("web", depends_on=(Dependency("api"),)),
    )
    engine = engine_for()
    engine.health["p-db-1"] = ["starting", "starting", "starting", "healthy"]
    outcomes, _ = apply(spec, engine)
    assert {o.status for o in outcomes.values()} == {"done"}
    calls = engine.calls
    healthy_at = max(i for i, c in enumerate(calls) if c == ("inspect", "p-db-1"))
    assert engine.index("start", "p-db-1") < healthy_at < engine.index("create", "p-api-1")
    assert engine.index("start", "p-api-1") < engine.index("create", "p-web-1")
    assert sum(1 for c in calls if c == ("inspect", "p-db-1")) == 4  # polled until healthy


def test_unhealthy_dependency_fails_the_dependent_and_skips_its_dependents():
    spec = make_spec(
        ctr("db", healthcheck=HC),
        ctr("api", depends_on=(Dependency("db", "healthy"),)),
        ctr("web", depends_on=(Dependency("api"),)),
        ctr("cache"),
    )
    engine = engine_for()
    engine.health["p-db-1"] = ["starting", "unhealthy"]
    outcomes, events = apply(spec, engine)
    assert status_of(outcomes, "p-db-1", "create") == "done"
    assert status_of(outcomes, "p-api-1", "create") == "failed"
    assert "dependency db is unhealthy" in outcomes["p-api-1:create"].message
    assert status_of(outcomes, "p-web-1", "create") == "skipped"
    assert "container.api[1]" in outcomes["p-web-1:create"].message
    assert status_of(outcomes, "p-cache-1", "create") == "done"
    assert ("create", "p-web-1") not in engine.calls
    assert [e["address"] for e in events if e["event"] == "failed"] == ["container.api[1]"]


def test_failure_skips_dependents_transitively_but_not_independent_work():
    spec = make_spec(
        ctr("db"),
        ctr("api", depends_on=(Dependency("db"),)),
        ctr("web", depends_on=(Dependency("api"),)),
        ctr("cache"),
        ctr("worker", replicas=2),
    )
    engine = engine_for()
    engine.fail[("start", "p-db-1")] = Conflict("host port 127.0.0.1:1 already in use")
    outcomes, _ = apply(spec, engine)
    assert status_of(outcomes, "p-db-1", "create") == "failed"
    assert "already in use" in outcomes["p-db-1:create"].message
    assert status_of(outcomes, "p-api-1", "create") == "skipped"
    assert status_of(outcomes, "p-web-1", "create") == "skipped"
    for name in ("p-cache-1", "p-worker-1", "p-worker-2"):
        assert status_of(outcomes, name, "create") == "done"
        assert engine.by_name(name).status == "running"
    assert "p-api-1" not in engine.names() and "p-web-1" not in engine.names()
    # the failed new container is not left behind looking up to date
    assert "p-db-1" not in engine.names()


def test_unchanged_dependent_of_a_failure_is_reported_unchanged():
    db, web = ctr("db"), ctr("web", depends_on=(Dependency("db"),))
    engine = engine_for(Obs(db), Obs(web))
    engine.fail[("create", "p-db-1")] = EngineError("boom")
    outcomes, _ = apply(make_spec(ctr("db", env={"A": "1"}), web), engine)
    assert status_of(outcomes, "p-db-1", "replace") == "failed"
    assert status_of(outcomes, "p-web-1", "unchanged") == "unchanged"


@pytest.mark.parametrize("parallel", [1, 3])
def test_parallelism_is_bounded(parallel):
    spec = make_spec(*(ctr(f"c{i}") for i in range(8)))
    engine = engine_for()
    engine.delay["create"] = 0.03
    outcomes, _ = apply(spec, engine, parallel=parallel)
    assert {o.status for o in outcomes.values()} == {"done"}
    assert engine.max_in_flight == parallel


def test_failed_hook_fails_the_change_and_leaves_nothing_up_to_date():
    spec = make_spec(ctr(exec=(("sh", "-c", "true"), ("false",), ("touch", "/never"))))
    engine = engine_for()
    engine.exec_results[("p-web-1", "false")] = (1, "line1\nbad thing\n")
    outcomes, _ = apply(spec, engine)
    out = outcomes["p-web-1:create"]
    assert out.status == "failed"
    assert "exec hook `false` exited 1" in out.message and "bad thing" in out.message
    assert [c for c in engine.calls if c[0] == "exec"] == [("exec", "p-web-1")] * 2
    assert "p-web-1" not in engine.names()
    assert container_changes(plan(spec, engine.observe(PROJECT)))[0].action is Action.CREATE


OLD = ctr(env={"V": "1"}, volumes=(Mount("/anon"),), healthcheck=HC, exec=(("touch", "/x"),))
NEW = replace(OLD, env={"V": "2"})


def test_replacement_keeps_anonymous_volumes_and_removes_the_old_container():
    engine = engine_for(Obs(OLD))
    old = engine.by_name("p-web-1")
    old.volumes = {"/anon": "anon-old-volume"}
    old_id = old.id
    outcomes, _ = apply(make_spec(NEW), engine)
    assert status_of(outcomes, "p-web-1", "replace") == "done"
    new = engine.by_name("p-web-1")
    assert new.id != old_id and old_id not in engine.containers
    assert new.volumes["/anon"] == "anon-old-volume"
    assert new.config["env"] == {"V": "2"} and new.status == "running"
    aside = aside_name("p-web-1", old_id)
    expected = [
        ("stop", "p-web-1"),
        ("rename", f"p-web-1->{aside}"),
        ("create", "p-web-1"),
        ("start", "p-web-1"),
        ("remove", aside),
    ]
    assert engine.mutations() == expected
    # healthy before the old one is removed, hooks run in the new one
    assert engine.index("inspect", "p-web-1") < engine.index("remove", aside)
    assert new.execs == [["touch", "/x"]]


@pytest.mark.parametrize(
    "where",
    ["create", "start", "health", "exited", "hook"],
)
def test_failed_replacement_restores_the_old_container(where):
    engine = engine_for(Obs(OLD))
    old = engine.by_name("p-web-1")
    old_id = old.id
    if where in ("create", "start"):  # once: the old one starts again under the same name
        engine.fail_once[(where, "p-web-1")] = EngineError(f"{where} failed")
    elif where == "health":
        engine.health["p-web-1"] = ["starting", "unhealthy"]
    elif where == "exited":
        engine.exits["p-web-1"] = 3
    else:
        engine.exec_results[("p-web-1", "touch")] = (2, "read-only file system")
    outcomes, _ = apply(make_spec(NEW), engine)
    out = outcomes["p-web-1:replace"]
    assert out.status == "failed"
    assert "the old container p-web-1 was restored" in out.message
    assert engine.names() == {"p-web-1"}
    restored = engine.by_name("p-web-1")
    assert restored.id == old_id and restored.status == "running"
    assert restored.config["env"] == {"V": "1"}
    assert engine.mutations()[-2:] == [
        ("rename", f"{aside_name('p-web-1', old_id)}->p-web-1"),
        ("start", "p-web-1"),
    ]
    # the next plan still wants the replacement, from the old container
    (again,) = container_changes(plan(make_spec(NEW), engine.observe(PROJECT)))
    assert again.action is Action.REPLACE and again.container_id == old_id


def test_stopped_container_is_not_started_by_a_failed_replacement():
    engine = engine_for(Obs(OLD, status="exited", exit_code=0))
    engine.fail[("create", "p-web-1")] = EngineError("create failed")
    outcomes, _ = apply(make_spec(replace(NEW, state="stopped")), engine)
    assert status_of(outcomes, "p-web-1", "replace") == "failed"
    assert engine.by_name("p-web-1").status == "exited"


def test_interrupted_replacement_is_recovered_from_the_labels():
    # crash after the rename aside: only the aside container is left
    engine = engine_for(Obs(OLD, status="exited", exit_code=137))
    old = engine.by_name("p-web-1")
    old.name = aside_name("p-web-1", old.id)
    outcomes, _ = apply(make_spec(NEW), engine)
    assert status_of(outcomes, "p-web-1", "replace") == "done"
    assert engine.names() == {"p-web-1"} and engine.by_name("p-web-1").config["env"] == {"V": "2"}

    # crash after the rename aside, spec reverted: the old one comes back under its name
    engine = engine_for(Obs(OLD, status="exited", exit_code=137))
    old = engine.by_name("p-web-1")
    old.name = aside_name("p-web-1", old.id)
    outcomes, _ = apply(make_spec(OLD), engine)
    assert status_of(outcomes, "p-web-1", "start") == "done"
    assert engine.names() == {"p-web-1"} and engine.by_name("p-web-1").id == old.id

    # crash after the new one was created (never started): leftover removed, hooks run
    engine = engine_for(
        Obs(OLD, status="exited", exit_code=137), Obs(NEW, status="created", created=2)
    )
    old = next(c for c in engine.containers.values() if c.config["env"] == {"V": "1"})
    old.name = aside_name("p-web-1", old.id)
    outcomes, _ = apply(make_spec(NEW), engine)
    assert {o.status for o in outcomes.values()} == {"done"}
    assert engine.names() == {"p-web-1"}
    assert engine.by_name("p-web-1").status == "running"
    assert engine.by_name("p-web-1").execs == [["touch", "/x"]]
    assert not containers_only(plan(make_spec(NEW), engine.observe(PROJECT))).has_changes


def test_vanished_containers_are_not_errors():
    spec = make_spec(ctr("a"), ctr("b", env={"X": "2"}), ctr("c"))
    engine = engine_for(Obs(ctr("a"), status="exited"), Obs(ctr("b")), Obs(ctr("gone")))
    result = containers_only(plan(spec, engine.observe(PROJECT)))
    engine.containers.clear()  # removed by hand between observe and action
    executor = Executor(engine, PROJECT, ExecOptions(wait_timeout=1.0))
    outcomes = {o.address: o for o in executor.run(result) if o.change.target.kind == "container"}
    assert {a: o.status for a, o in outcomes.items()} == {
        "container.a[1]": "done",
        "container.b[1]": "done",
        "container.c[1]": "done",
        "container.gone[1]": "done",
    }
    assert engine.names() == {"p-a-1", "p-b-1", "p-c-1"}
    assert engine.by_name("p-b-1").config["env"] == {"X": "2"}


def test_removals_finish_before_creations_that_may_need_their_ports():
    port = (PortBinding(80, host_ip="127.0.0.1", host_port=18080),)
    engine = engine_for(Obs(ctr("old", ports=port)))
    engine.delay["remove"] = 0.05
    outcomes, _ = apply(make_spec(ctr("new", ports=port)), engine)
    assert {o.status for o in outcomes.values()} == {"done"}
    assert engine.index("remove", "p-old-1") < engine.index("create", "p-new-1")


def test_scale_down_removes_the_highest_replicas():
    engine = engine_for(*(Obs(WEB, r) for r in (1, 2, 3)))
    apply(make_spec(WEB), engine, parallel=1)
    assert engine.names() == {"p-web-1"}
    assert [c for c in engine.mutations() if c[0] == "remove"] == [
        ("remove", "p-web-3"),
        ("remove", "p-web-2"),
    ]


def test_text_plan_symbols_and_colours():
    from reconciler.ui.render import render_plan

    spec = make_spec(
        ctr("new"),
        ctr("changed", env={"A": "2"}),
        ctr("exited"),
        ctr("halt", state="stopped"),
    )
    state = make_state(
        Obs(ctr("changed", env={"A": "1"})),
        Obs(ctr("exited"), status="exited", exit_code=1),
        Obs(ctr("halt", state="stopped")),
        Obs(ctr("gone")),
    )
    result = plan(spec, state)
    text = render_plan(result, color=False)
    for line in (
        "+ container.new[1] (p-new-1): create",
        "~ container.changed[1] (p-changed-1): replace: changed: env",
        '      env.A: "1" -> "2"',
        "> container.exited[1] (p-exited-1): start",
        ". container.halt[1] (p-halt-1): stop",
        "- container.gone[1] (p-gone-1): remove: no longer in the spec",
    ):
        assert line in text
    assert "\x1b[" not in text
    coloured = render_plan(result, color=True)
    assert "\x1b[32m+ container.new[1]\x1b[0m" in coloured
    assert "\x1b[33m~ container.changed[1]\x1b[0m" in coloured
    assert "\x1b[31m- container.gone[1]\x1b[0m" in coloured


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    import argparse
    import io

    from reconciler.ui.output import use_color

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(argparse.Namespace(no_color=False), Tty())
    assert not use_color(argparse.Namespace(no_color=False), io.StringIO())
    assert not use_color(argparse.Namespace(no_color=True), Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(argparse.Namespace(no_color=False), Tty())
