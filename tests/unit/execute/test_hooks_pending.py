"""Issue 16 #3: a new container with exec hooks runs under a hooks-pending name until its hooks
succeed; an apply killed before that leaves a container the next plan removes and creates
again (or, in a replacement, restores the old one and replaces it again), so the hooks run."""

from __future__ import annotations

from reconciler.model.labels import HOOKS_MARK, aside_name, hooks_pending
from reconciler.model.plan import Action
from reconciler.plan.planner import plan
from tests.unit.execute.test_scheduler import apply, engine_for
from tests.unit.fake_engine import FakeEngine
from tests.unit.plan.test_planner import ID1, PROJECT, Obs, container_changes, ctr, make_spec

HOOKED = ctr(exec=(("touch", "/ready"),))


class NamesAtExec(FakeEngine):
    """Records the container's real name whenever a hook runs."""

    seen: list[str]

    def exec_run(self, cid, cmd, *, user="", workdir=None):
        self.seen.append(self.containers[cid].name)
        return super().exec_run(cid, cmd, user=user, workdir=workdir)


def test_hooks_run_under_the_pending_name_and_the_container_then_takes_its_name():
    engine = NamesAtExec(images=engine_for().images)
    engine.seen = []
    outcomes, _ = apply(make_spec(HOOKED), engine)
    assert outcomes["p-web-1:create"].status == "done"
    assert len(engine.seen) == 1 and hooks_pending(engine.seen[0])
    assert engine.names() == ["p-web-1"] or set(engine.names()) == {"p-web-1"}


def test_a_container_left_with_hooks_pending_is_removed_and_created_again():
    pending = "p-web-1" + HOOKS_MARK + "abc"
    engine = engine_for(Obs(HOOKED, name=pending))
    changes = container_changes(plan(make_spec(HOOKED), engine.observe(PROJECT)))
    by_action = {(c.action, c.target.name): c for c in changes}
    assert by_action[(Action.REMOVE, pending)].reason.startswith("its exec hooks never completed")
    assert (Action.CREATE, "p-web-1") in by_action
    apply(make_spec(HOOKED), engine)
    assert set(engine.names()) == {"p-web-1"}
    assert ("exec", "p-web-1") in engine.calls


def test_an_interrupted_replacement_with_hooks_is_redone_even_when_the_new_one_is_healthy():
    old = ctr(env={"V": "1"}, exec=(("touch", "/ready"),))
    new = ctr(env={"V": "2"}, exec=(("touch", "/ready"),))
    # killed during the new container's hooks: old aside (stopped), new running but pending
    engine = engine_for(
        Obs(old, name=aside_name("p-web-1", "0" * 12), status="exited", image_id=ID1),
        Obs(new, name="p-web-1" + HOOKS_MARK + "abc", image_id=ID1),
    )
    changes = container_changes(plan(make_spec(new), engine.observe(PROJECT)))
    actions = sorted((str(c.action), c.target.name) for c in changes)
    assert ("remove", "p-web-1" + HOOKS_MARK + "abc") in actions
    assert any(a == "replace" for a, _ in actions), actions  # the old one is restored + replaced
    outcomes, _ = apply(make_spec(new), engine)
    assert all(str(o.status) == "done" for o in outcomes.values()), outcomes
    assert set(engine.names()) == {"p-web-1"}
    assert ("exec", "p-web-1") in engine.calls
