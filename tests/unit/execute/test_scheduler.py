"""The executor (scheduler + container and image handlers) against the hand-written fake engine
(tests/unit/fake_engine.py): order, health waits, failures, rollback, recovery."""

from __future__ import annotations

import threading

import pytest
from msgspec.structs import replace

from reconciler.errors import Conflict, EngineError
from reconciler.execute.context import ExecOptions
from reconciler.execute.scheduler import Executor
from reconciler.model.config import container_config
from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_CONFIG_HASH,
    aside_name,
    canonical_json,
    config_hash,
    ownership_labels,
)
from reconciler.model.plan import Action
from reconciler.model.spec import Dependency, Mount, PortBinding, Spec
from reconciler.plan.planner import PlanOptions, plan
from tests.unit.fake_engine import FakeEngine
from tests.unit.plan.test_planner import (
    HC,
    ID1,
    ID2,
    IMG,
    IMG2,
    PROJECT,
    WEB,
    Obs,
    container_changes,
    ctr,
    make_spec,
    own_deps,
)

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
        engine,
        PROJECT,
        ExecOptions(parallel=parallel, wait_timeout=2.0, settle=0.0),
        on_event=on_event,
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
    # polled until healthy by its own create (settle.py), then once by its dependent
    assert sum(1 for c in calls if c == ("inspect", "p-db-1")) == 5


def test_unhealthy_new_container_fails_its_create_and_skips_its_dependents():
    # issue 16 #2: a create is done only when a container with a healthcheck becomes healthy
    spec = make_spec(
        ctr("db", healthcheck=HC),
        ctr("api", depends_on=(Dependency("db", "healthy"),)),
        ctr("web", depends_on=(Dependency("api"),)),
        ctr("cache"),
    )
    engine = engine_for()
    engine.health["p-db-1"] = ["starting", "unhealthy"]
    outcomes, events = apply(spec, engine)
    assert status_of(outcomes, "p-db-1", "create") == "failed"
    assert "p-db-1 is unhealthy" in outcomes["p-db-1:create"].message
    assert status_of(outcomes, "p-api-1", "create") == "skipped"
    assert status_of(outcomes, "p-web-1", "create") == "skipped"
    assert status_of(outcomes, "p-cache-1", "create") == "done"
    assert ("create", "p-api-1") not in engine.calls
    assert [e["address"] for e in events if e["event"] == "failed"] == ["container.db[1]"]


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
