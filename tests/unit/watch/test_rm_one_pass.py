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


class RemovingEngine:
    """inspect says `removing` twice, then the container is gone (a `docker rm -f`)."""

    def __init__(self) -> None:
        self.inspects = 0

    def inspect_container(self, cid: str) -> dict:
        from reconciler.errors import NotFound

        self.inspects += 1
        if self.inspects > 2:
            raise NotFound(f"container {cid} not found")
        return {"status": "removing", "running": False}


def test_settle_waits_for_a_removal_and_owns_its_events():
    from reconciler.watch.events import settle_exits

    engine = RemovingEngine()
    own = OwnContainers(clock=lambda: 100.0)
    settle_exits(engine, [Trigger("event", "kill p-web-1", "kill", CID)], own)
    assert engine.inspects == 3
    own.release()
    assert CID in own  # its late die and destroy are this pass's


def test_settle_forgets_a_container_that_stays():
    from reconciler.watch.events import settle_exits

    class Exited:
        def inspect_container(self, cid: str) -> dict:
            return {"status": "exited", "running": False}

    own = OwnContainers(clock=lambda: 100.0)
    settle_exits(Exited(), [Trigger("event", "die p-web-1", "die", CID)], own)
    assert CID not in own
