"""Issue 15 (7): `docker rm -f` (kill, die, destroy) causes one pass: when the pass its first
events started finds the container gone, the late `destroy` is that pass's business."""

from __future__ import annotations

from reconciler.model.plan import Plan
from reconciler.model.state import ObservedContainer, State
from reconciler.watch.events import OwnContainers
from reconciler.watch.triggers import Trigger

CID = "c" * 64


def test_destroy_of_a_container_the_pass_saw_gone_is_not_drift():
    own = OwnContainers(clock=lambda: 100.0)
    own.triggered_by([Trigger("event", "die p-web-1", "die", CID)])
    own.mark_plan(Plan(project="p"), State(project="p"))  # observed: it is gone
    own.release()
    assert CID in own


def test_a_container_still_there_stays_drift():
    own = OwnContainers(clock=lambda: 100.0)
    own.triggered_by([Trigger("event", "die p-web-1", "die", CID)])
    present = ObservedContainer(CID, "p-web-1", "p", "web", 1, "exited")
    own.mark_plan(Plan(project="p"), State(project="p", containers=(present,)))
    own.release()
    assert CID not in own
