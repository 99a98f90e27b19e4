"""The executor's slots (execute/context.py): at most `parallel` changes work at once, and a
change that only waits (a new container settling, a health or dependency condition) gives its
slot to others meanwhile, so settling containers do not hold back the rest of a cold apply.
Concurrency is asserted by counting and by a barrier, never by time."""

from __future__ import annotations

import threading

import pytest

from reconciler.execute.context import ExecOptions, RunContext
from reconciler.execute.outcome import Result, Status
from reconciler.execute.scheduler import Executor
from reconciler.execute.settle import settle
from reconciler.model.plan import Action, Change, Kind, Plan, Target


class Counting:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


class WaitingHandler:
    """Works (counted), then waits at a barrier that needs every change at once."""

    def __init__(self, parties: int) -> None:
        self.working = Counting()
        self.barrier = threading.Barrier(parties, timeout=30)

    def releases(self, change: Change) -> bool:
        return False

    def claims(self, change: Change) -> bool:
        return False

    def run(self, change: Change, ctx: RunContext) -> Result:
        with self.working:
            pass
        with ctx.waiting():
            self.barrier.wait()  # broken (BrokenBarrierError) unless all wait together
        with self.working:
            pass
        return Result(Status.DONE, "waited")


def plan_of(count: int) -> Plan:
    changes = tuple(
        Change(Action.CREATE, Target(Kind.VOLUME, f"v{i}", name=f"v{i}"), "missing")
        for i in range(count)
    )
    return Plan("p", changes)


@pytest.mark.parametrize("parallel", [1, 2])
def test_waiting_changes_give_their_slots_to_others(parallel):
    count = parallel * 4  # more than `parallel` changes must wait at the same time
    handler = WaitingHandler(count)
    executor = Executor(None, "p", ExecOptions(parallel=parallel), handlers={Kind.VOLUME: handler})
    outcomes = executor.run(plan_of(count))
    assert [o.status for o in outcomes] == [Status.DONE] * count
    assert handler.working.most <= parallel


class SettleEngine:
    def __init__(self) -> None:
        self.inspected = 0

    def inspect_container(self, cid: str) -> dict:
        self.inspected += 1
        return {"status": "running", "exit_code": 0, "restart_count": 0}


def test_settling_without_a_healthcheck_looks_once_whatever_the_window():
    engine = SettleEngine()
    options = ExecOptions(settle=0.3)
    ctx = RunContext(engine, "p", None, options, lambda event: None, threading.Event())
    settle("cid", "web", False, ctx)
    assert engine.inspected == 1  # at the end of the window
