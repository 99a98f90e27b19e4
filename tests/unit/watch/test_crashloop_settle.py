"""Watch's crash-loop policy with the settle window (issue 16 #2): a START or CREATE that failed
because its new container exited right after the start (typed: Cause.EXITED_AFTER_START, raised
by execute/settle.py) counts as a start and a quick exit; other failures started nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from reconciler.execute.context import ExecOptions
from reconciler.execute.outcome import (
    Cause,
    ChangeFailed,
    ExitedAfterStart,
    Outcome,
    Status,
)
from reconciler.execute.scheduler import Executor
from reconciler.model.plan import Action, Change, Plan, Target
from reconciler.model.state import ObservedContainer, State
from reconciler.watch.crashloop import CrashBackoff, CrashLoopPolicy
from reconciler.watch.log import WatchLog
from reconciler.watch.metrics import Metrics

PROJECT = "crashsettle"
NAME = f"{PROJECT}-web-1"


def change(action: Action) -> Change:
    return Change(action, Target("container", "web", 1, NAME), "test", container_id="c1")


def policy() -> tuple[CrashLoopPolicy, io.StringIO]:
    out = io.StringIO()
    log = WatchLog(json_lines=True, stdout=out, stderr=out)
    return CrashLoopPolicy(CrashBackoff(), log, Metrics()), out


def held_start(p: CrashLoopPolicy, now: float) -> Change:
    """The adjusted START of the kept, exited container (exit code 3)."""
    oc = ObservedContainer("c1", NAME, PROJECT, "web", 1, "exited", exit_code=3)
    plan, _ = p.adjust(Plan(PROJECT, (change(Action.START),)), State(PROJECT, (oc,)), now)
    return plan.changes[0]


def test_the_typed_cause_survives_a_rollback_message():
    settle = ExitedAfterStart("web exited with code 3 after its start", 3)
    try:
        try:
            raise settle
        except ChangeFailed as exc:
            raise ChangeFailed(f"{exc}; the old container web was restored") from exc
    except ChangeFailed as wrapped:
        o = Outcome.failed(change(Action.REPLACE), wrapped, 1.0)
    assert (o.status, o.cause, o.container_exit) == (Status.FAILED, Cause.EXITED_AFTER_START, 3)
    assert o.message.endswith("was restored")
    plain = Outcome.failed(change(Action.CREATE), ChangeFailed("port 80 is taken"), 0.1)
    assert (plain.cause, plain.container_exit) == (None, None)
    assert ExitedAfterStart("x", 3).exit_code == 1  # the CLI's exit code is untouched


def test_a_start_that_exited_in_its_settle_window_is_a_quick_exit():
    for action in (Action.CREATE, Action.START):
        p, _ = policy()
        failed = Outcome(change(action), Status.FAILED, "exited", cause=Cause.EXITED_AFTER_START)
        p.record([failed], Plan(PROJECT, (change(action),)), 100.0)
        held = held_start(p, 100.5)
        assert held.action is Action.UNCHANGED and "crash-loop backoff" in held.reason
        assert p.backoff.records[NAME].quick_exits == 1
        assert held_start(p, 101.6).action is Action.START  # after its 1 s


def test_a_failure_that_started_nothing_is_not_a_quick_exit():
    p, _ = policy()
    failed = Outcome(change(Action.CREATE), Status.FAILED, "port 80 is taken")
    p.record([failed], Plan(PROJECT, (change(Action.CREATE),)), 100.0)
    assert held_start(p, 100.5).action is Action.START
    assert p.backoff.records[NAME].quick_exits == 0


class ExitsAtOnce:
    """An engine whose started container has exited with code 3 (what settle reads)."""

    def start_container(self, cid: str) -> None:
        pass

    def inspect_container(self, cid: str) -> dict[str, Any]:
        return {"status": "exited", "exit_code": 3, "restart_count": 0}

    def logs(self, cid: str, follow: bool, tail: int) -> Iterator[bytes]:
        yield b"boom\n"  # a generator: settle closes the stream


def test_the_executor_reports_the_settle_failure_typed():
    (o,) = Executor(ExitsAtOnce(), PROJECT, ExecOptions()).run(
        Plan(PROJECT, (change(Action.START),))
    )
    assert (o.status, o.cause, o.container_exit) == (Status.FAILED, Cause.EXITED_AFTER_START, 3)
    assert "exited with code 3" in o.message and "boom" in o.message
