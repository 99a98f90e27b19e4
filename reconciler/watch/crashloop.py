"""The watch's crash-loop policy: containers that keep dying are restarted with exponential
backoff (like Kubernetes' CrashLoopBackOff). `CrashBackoff` is the pure bookkeeping over a
clock; `CrashLoopPolicy` applies it to a pass: it holds back the plan's STARTs of
crash-looping containers, remembers who someone else killed (drift, not a crash) and records
the starts a pass made. Used by loop.Watcher; the planner stays pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from reconciler.execute.outcome import Cause, Outcome, Status
from reconciler.model.plan import Action, Change, ContainerIntent, Plan, Reason
from reconciler.model.state import ObservedContainer, State
from reconciler.watch.backoff import exponential_delay
from reconciler.watch.log import WatchLog
from reconciler.watch.metrics import Metrics
from reconciler.watch.printer import print_backoff
from reconciler.watch.triggers import Trigger

# Events that say someone else stopped or killed a container (docker stop/kill): its death is
# drift, restarted at once, not a crash loop. Remembered this long (a stop may take a while).
EXTERNAL_ACTIONS = frozenset({"kill", "stop"})
KILL_MEMORY_S = 120.0


class CrashRecord(Struct):
    """One container's crash-loop bookkeeping, kept by `CrashBackoff` by name; the state file
    shows it (statefile.state_record)."""

    address: str
    quick_exits: int = 0  # consecutive deaths within `reset` seconds of our start
    last_start: float | None = None  # monotonic time of our last successful start
    dead: bool = False  # its death is counted and it waits for a start
    next_start: float = 0.0
    delay: float = 0.0
    exit_code: int | None = None
    ran: float | None = None  # how long it ran before its last death (None: unknown)
    wake_pending: bool = False  # held back: the loop owes it a pass at next_start


class CrashBackoff:
    """Crash-loop backoff for containers that keep dying (like Kubernetes' CrashLoopBackOff
    and Docker's restart delay). A death after a run shorter than `reset` seconds is a quick
    exit; the n-th consecutive quick exit holds the next start back initial * 2^(n-1) seconds
    (1, 2, 4, ... up to `maximum`). A death after a longer run (or of a container we never
    started) is restarted at once. Pure bookkeeping over a clock; the watch loop calls it."""

    def __init__(self, initial: float = 1.0, maximum: float = 300.0, reset: float = 10.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.reset = reset
        self.records: dict[str, CrashRecord] = {}
        self.holds = 0  # how many times a start was held back (a metric)

    def wants_start(
        self,
        name: str,
        address: str,
        now: float,
        exit_code: int | None = None,
        external: bool = False,
    ) -> tuple[float, bool]:
        """The plan wants to start `name`, which is not running. Returns (seconds to hold it
        back, 0 = start now; whether this call counted a new death). `external`: it died
        because someone stopped or killed it (`docker stop/kill`): drift, not a crash."""
        rec = self.records.setdefault(name, CrashRecord(address))
        rec.address = address
        new_death = not rec.dead
        if new_death:
            rec.dead = True
            rec.exit_code = exit_code
            ran = rec.ran = None if rec.last_start is None else now - rec.last_start
            if ran is not None and ran < self.reset and not external:
                rec.quick_exits += 1
                rec.delay = exponential_delay(self.initial, self.maximum, rec.quick_exits)
            else:
                rec.quick_exits = 0
                rec.delay = 0.0
            rec.next_start = now + rec.delay
        wait = max(0.0, rec.next_start - now)
        if wait > 0:
            self.holds += 1
            rec.wake_pending = True
        return wait, new_death

    def started(self, name: str, address: str, now: float, fresh: bool = False) -> None:
        """We started (fresh: created or replaced) the container `name` at `now`."""
        rec = self.records.setdefault(name, CrashRecord(address))
        rec.last_start = now
        rec.dead = False
        if fresh:
            rec.quick_exits = 0
            rec.delay = 0.0

    def running(self, name: str, now: float) -> None:
        """Observed running: once up for `reset` seconds, its quick exits are forgotten."""
        rec = self.records.get(name)
        if rec is None:
            return
        rec.dead = False
        if rec.last_start is not None and now - rec.last_start >= self.reset:
            rec.quick_exits = 0
            rec.delay = 0.0

    def forget(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        for name in [n for n in self.records if n not in keep]:
            del self.records[name]

    def next_wakeup(self) -> float | None:
        """When the loop owes a held-back container a pass (None: it owes none)."""
        times = [r.next_start for r in self.records.values() if r.wake_pending]
        return min(times) if times else None

    def take_due(self, now: float) -> list[str]:
        """Held-back containers whose start time has come (each returned once per hold)."""
        due = sorted(n for n, r in self.records.items() if r.wake_pending and r.next_start <= now)
        for name in due:
            self.records[name].wake_pending = False
        return due

    def held(self, now: float) -> dict[str, CrashRecord]:
        """Containers whose next start is held back right now."""
        return {n: r for n, r in self.records.items() if r.dead and r.next_start > now}

    def in_backoff(self) -> dict[str, CrashRecord]:
        """Containers with quick exits not yet forgiven (held back now, or restarted after a
        hold and not yet up for `reset` seconds)."""
        return {n: r for n, r in self.records.items() if r.quick_exits > 0}


class CrashLoopPolicy:
    """Applies a CrashBackoff to the watch's passes. `note_kills` before a pass, `adjust` on
    its plan (hold back STARTs), `record` on its outcomes. Metrics count each new hold;
    each new quick exit is logged."""

    def __init__(self, backoff: CrashBackoff, log: WatchLog, metrics: Metrics) -> None:
        self.backoff = backoff
        self.log = log
        self.metrics = metrics
        self.killed: dict[str, float] = {}  # container id -> when someone else killed/stopped it

    def note_kills(self, triggers: Iterable[Trigger], now: float) -> None:
        """Remember containers that someone stopped or killed (their `kill`/`stop` events;
        our own pass's are ignored upstream): their death is drift, not a crash loop."""
        for t in triggers:
            if t.action in EXTERNAL_ACTIONS and t.ref:
                self.killed[t.ref] = now
        for cid in [c for c, at in self.killed.items() if now - at > KILL_MEMORY_S]:
            del self.killed[cid]

    def adjust(self, plan: Plan, state: State, now: float) -> tuple[Plan, list[dict[str, Any]]]:
        """Hold back STARTs of crash-looping containers (and of containers being removed:
        their destroy event triggers the pass that recreates them). Returns the adjusted plan
        and the held-back starts ({address, name, start_in})."""
        observed = {c.id: c for c in state.containers}
        changes = []
        held: list[dict[str, Any]] = []
        for change in plan.changes:
            if change.target.kind == "container":
                oc = observed.get(change.container_id or "")
                if change.action is Action.UNCHANGED and oc is not None and oc.running:
                    self.backoff.running(change.target.name, now)
                if change.action is Action.START and not change.intent_as(ContainerIntent).restore:
                    if oc is not None and oc.status == "removing":
                        change = replace(
                            change,
                            action=Action.UNCHANGED,
                            reason="being removed; recreated next",
                            cause=Reason.HELD,
                        )
                    else:
                        change = self.hold(change, oc, now, held)
            changes.append(change)
        return replace(plan, changes=tuple(changes)), held

    def hold(
        self,
        change: Change,
        oc: ObservedContainer | None,
        now: float,
        held: list[dict[str, Any]],
    ) -> Change:
        """The plan wants to start this container: the change as is, or UNCHANGED while its
        crash-loop delay runs (then appended to `held`)."""
        name = change.target.name
        exit_code = oc.exit_code if oc is not None else None
        external = oc is not None and oc.id in self.killed
        wait, new_death = self.backoff.wants_start(name, change.address, now, exit_code, external)
        rec = self.backoff.records[name]
        if new_death and rec.quick_exits:
            with self.metrics.lock:
                self.metrics.backoffs += 1
            print_backoff(self.log, change, rec.quick_exits, rec.ran, rec.delay, exit_code)
        if wait <= 0:
            return change
        held.append({"address": change.address, "name": name, "start_in": round(wait, 3)})
        return replace(
            change,
            action=Action.UNCHANGED,
            reason=f"crash-loop backoff: next start in {wait:.1f} s",
            cause=Reason.HELD,
        )

    def record(self, outcomes: Iterable[Outcome], plan: Plan, now: float) -> None:
        """After a pass: the containers it started (created or replaced: a clean slate), and
        forget the containers the plan no longer has."""
        for o in outcomes:
            change = o.change
            # a START or CREATE whose new container exited in its settle window
            # (execute/settle.py: Cause.EXITED_AFTER_START; the container is kept, stopped) did
            # start it, and it died: it counts, or a crash loop would never be held back. Other
            # failures (a taken port, a missing image) started nothing. A failed REPLACE left
            # the old container running; the loop's pass-failure backoff spaces its retries.
            ran = o.status is Status.DONE or (
                o.cause is Cause.EXITED_AFTER_START
                and change.action in (Action.START, Action.CREATE)
            )
            if change.target.kind == "container":
                if ran and change.action is Action.START:
                    self.backoff.started(change.target.name, change.address, now)
                elif (
                    ran
                    and change.action in (Action.CREATE, Action.REPLACE)
                    and change.intent_as(ContainerIntent).start
                ):
                    self.backoff.started(change.target.name, change.address, now, fresh=True)
        self.backoff.forget(
            c.target.name
            for c in plan.changes
            if c.target.kind == "container" and c.action is not Action.REMOVE
        )
