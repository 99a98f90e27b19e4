"""Issue 16 #7: a rollback that cannot restart the old container (its port was taken
meanwhile) reports the first cause too, and that the old container is left stopped."""

from __future__ import annotations

from reconciler.errors import Conflict
from tests.unit.execute.test_scheduler import apply, engine_for, status_of
from tests.unit.plan.test_planner import Obs, ctr, make_spec


def test_a_failed_rollback_names_both_causes_and_the_stopped_old_container():
    old, new = ctr(env={"V": "1"}), ctr(env={"V": "2"})
    engine = engine_for(Obs(old))
    port = Conflict("port 8080 is already allocated")
    engine.fail[("start", "p-web-1")] = port  # the new one fails, then the old one too
    engine.fail_once[("create", "p-web-1")] = Conflict("first cause: bad config")
    outcomes, _ = apply(make_spec(new), engine)
    out = outcomes["p-web-1:replace"]
    assert status_of(outcomes, "p-web-1", "replace") == "failed"
    assert "first cause: bad config" in out.message
    assert "port 8080 is already allocated" in out.message
    assert "left stopped" in out.message
