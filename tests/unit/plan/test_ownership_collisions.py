"""Issue 16 #1: a network or volume whose labels name another project (or another key of this
one) is never shared silently, and removal needs labels naming this project and this key."""

from __future__ import annotations

from reconciler.errors import Location
from reconciler.execute.registry import HANDLERS
from reconciler.execute.scheduler import Executor
from reconciler.model.config import network_config, volume_config
from reconciler.model.labels import stamp
from reconciler.model.plan import Action, Change, Target
from reconciler.model.spec import Mount
from reconciler.model.state import ObservedNetwork, ObservedVolume
from reconciler.plan.planner import DestroyOptions, PlanOptions, plan, plan_destroy
from tests.unit.fake_engine import FakeEngine
from tests.unit.plan.test_resources_plan import P, ctr, net, spec_of, state_of, vol

HERE = Location("/spec.yaml", 7, 3)


def _foreign_volume(name: str, project: str, key: str) -> ObservedVolume:
    return ObservedVolume(name, labels=stamp(project, key, "volume", {}))


def test_a_volume_of_another_project_under_our_engine_name_is_a_located_error():
    # project `p` key `b_data` and project `p_b` key `data` both map to `p_b_data`
    data = vol("b_data", location=HERE)
    web = ctr(volumes=(Mount("/data", "b_data"),))
    state = state_of(other_volumes=[_foreign_volume("p_b_data", "p_b", "data")])
    result = plan(spec_of(web, volumes=[data]), state, PlanOptions(prune=False))
    [problem] = result.errors
    assert problem.location == HERE and problem.path == "volumes.b_data"
    assert "p_b_data" in problem.message and "project p_b" in problem.message


def test_an_external_declaration_shares_it_on_purpose():
    data = vol("b_data", external=True)
    web = ctr(volumes=(Mount("/data", "b_data"),))
    state = state_of(other_volumes=[_foreign_volume("p_b_data", "p_b", "data")])
    result = plan(spec_of(web, volumes=[data]), state, PlanOptions(prune=False))
    assert not result.errors


def test_an_undeclared_volume_of_another_project_is_refused_at_the_mounting_container():
    web = ctr(volumes=(Mount("/data", "shared"),), location=HERE)
    state = state_of(other_volumes=[_foreign_volume("shared", "q", "shared")])
    [problem] = plan(spec_of(web), state, PlanOptions(prune=False)).errors
    assert problem.location == HERE and "project q" in problem.message


def test_a_plain_unlabelled_volume_is_still_used_as_it_is():
    web = ctr(volumes=(Mount("/data", "plain"),))
    state = state_of(other_volumes=[ObservedVolume("plain")])
    assert not plan(spec_of(web), state, PlanOptions(prune=False)).errors


def test_a_network_of_another_project_names_its_owner():
    front = net("b_front", location=HERE)
    web = ctr(networks=())
    spec = spec_of(web, networks=[front])
    web = ctr(networks=(spec.attachments(web)[0].__class__("b_front"),))
    spec = spec_of(web, networks=[front])
    other = ObservedNetwork(
        "id", "p_b_front", labels=stamp("p_b", "front", "network", network_config(front))
    )
    [problem] = plan(spec, state_of(other_networks=[other]), PlanOptions(prune=False)).errors
    assert problem.location == HERE and "project p_b" in problem.message


def test_a_volume_labelled_with_another_key_of_this_project_is_refused():
    data = vol("b_data", location=HERE)
    web = ctr(volumes=(Mount("/data", "b_data"),))
    mine = ObservedVolume("p_b_data", labels=stamp(P, "other", "volume", volume_config(data)))
    [problem] = plan(
        spec_of(web, volumes=[data]), state_of(volumes=[mine]), PlanOptions(prune=False)
    ).errors
    assert "key other of this project" in problem.message


def test_destroy_skips_volumes_without_a_key_label():
    bare = ObservedVolume(
        "p_x", labels={"io.reconciler.project": P, "io.reconciler.kind": "volume"}
    )
    result = plan_destroy(P, state_of(volumes=[bare]), DestroyOptions(volumes=True))
    assert not [c for c in result.changes if c.target.kind == "volume"]


def test_the_volume_handler_rechecks_project_and_key_before_removing():
    engine = FakeEngine()
    engine.create_volume("p_b_data", labels=stamp("p_b", "data", "volume", {}))
    ctx = Executor(engine, P).ctx
    change = Change(Action.REMOVE, Target("volume", "b_data", None, "p_b_data"), "destroy")
    try:
        HANDLERS["volume"].run(change, ctx)
    except Exception as exc:  # ChangeFailed
        assert "not removed" in str(exc)
    else:
        raise AssertionError("removed another project's volume")
    assert "p_b_data" in engine.volumes
    engine.create_volume("p_mine", labels=stamp(P, "mine", "volume", {}))
    mine = Change(Action.REMOVE, Target("volume", "mine", None, "p_mine"), "destroy")
    HANDLERS["volume"].run(mine, ctx)
    assert "p_mine" not in engine.volumes


def test_a_container_with_only_a_copied_project_label_is_named_by_its_container_name():
    from reconciler.model.state import ObservedContainer

    stray = ObservedContainer(
        id="s" * 64,
        name="someone-else",
        project=P,
        key="",
        replica=0,
        status="running",
        labels={"io.reconciler.project": P},
    )
    result = plan(spec_of(), state_of(containers=[stray]), PlanOptions(prune=True))
    [change] = [c for c in result.changes if c.target.kind == "container"]
    assert change.address == "container.someone-else"
