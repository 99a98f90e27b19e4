"""Exponential delays: `Backoff` (pass retries in loop.Watcher, event stream reconnects in
events.EventFollower) and `CrashBackoff`, the crash-loop bookkeeping the loop consults before
it lets a plan start a container that keeps dying."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def exponential_delay(initial: float, maximum: float, n: int) -> float:
    """The n-th delay (n >= 1): initial, 2x initial, 4x initial, ... up to maximum."""
    return min(initial * 2 ** (n - 1), maximum)


class Backoff:
    """Exponential delays: initial, 2x initial, ... up to maximum; reset() starts over."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        return exponential_delay(self.initial, self.maximum, self.failures)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class CrashRecord:
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
