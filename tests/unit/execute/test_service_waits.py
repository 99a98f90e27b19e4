"""execute/services.py's wait for a service's tasks: it ends when exactly the asked-for tasks
run, fails at the deadline, and ends at once when someone else scaled the service meanwhile
(found by the Swarm watch test: a service restored by watch and scaled by hand before the
wait's next look kept the pass waiting for the old count until the deadline)."""

from __future__ import annotations

import threading

import pytest

from reconciler.execute import services
from reconciler.execute.context import ExecOptions, RunContext
from reconciler.execute.outcome import ChangeFailed
from reconciler.model.swarm import ObservedService, ObservedTask


def service(replicas: int, running: int, starting: int = 0) -> ObservedService:
    tasks = [
        ObservedTask(f"r{i}", "s1", state="running", desired_state="running")
        for i in range(running)
    ]
    tasks += [
        ObservedTask(f"p{i}", "s1", state="preparing", desired_state="running")
        for i in range(starting)
    ]
    return ObservedService("s1", "p_web", "p", "web", replicas=replicas, tasks=tuple(tasks))


class Engine:
    """inspect_service answers the next of `looks`, then the last one again."""

    def __init__(self, *looks: ObservedService) -> None:
        self.looks = list(looks)
        self.count = 0

    def inspect_service(self, service_id: str) -> ObservedService:
        self.count += 1
        return self.looks.pop(0) if len(self.looks) > 1 else self.looks[0]


def ctx(engine: Engine, timeout: float = 30.0) -> RunContext:
    options = ExecOptions(wait_timeout=timeout)
    return RunContext(engine, "p", None, options, lambda event: None, threading.Event())


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(services, "POLL", 0.001)


def test_the_wait_ends_when_exactly_the_replicas_run():
    engine = Engine(service(2, 0, 2), service(2, 1, 1), service(2, 2))
    assert len(services._wait_tasks(ctx(engine), "s1", 2, "p_web").running_tasks) == 2
    assert engine.count == 3


def test_a_service_scaled_by_someone_else_ends_the_wait_at_once():
    engine = Engine(service(2, 1, 1), service(5, 2, 3))
    found = services._wait_tasks(ctx(engine), "s1", 2, "p_web")
    assert found.replicas == 5 and engine.count == 2


def test_tasks_that_never_run_fail_at_the_deadline():
    with pytest.raises(ChangeFailed, match="1 of 2 task"):
        services._wait_tasks(ctx(Engine(service(2, 1, 1)), timeout=0.01), "s1", 2, "p_web")
