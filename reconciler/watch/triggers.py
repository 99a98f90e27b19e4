"""Triggers: why the watch loop runs a pass. Producers (FileWatch, EventFollower, the loop's
timers) call `Triggers.fire`; the loop (loop.Watcher) waits on `Triggers.wait`, which
coalesces and debounces them. `describe_triggers` words a batch for output and status."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from msgspec import Struct

from reconciler.model.equality import equal_except


class Trigger(Struct, frozen=True):
    """Why a pass runs. Only a hint: the pass re-reads everything."""

    kind: str  # start | spec | context | event | reconnect | resync | retry | backoff
    detail: str = ""
    action: str = ""  # event: die, stop, ... (not compared)
    ref: str = ""  # event: the container id (not compared)

    __eq__, __hash__ = equal_except("action", "ref")

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}".strip()


# kind -> (debounce attribute of Triggers, max wait): debounced kinds fire on the trailing edge,
# but never later than `max wait` after the first one (so a stream of events cannot starve us).
_DEBOUNCED = {"spec": ("file", 2.0), "context": ("file", 2.0), "event": ("event", 0.5)}


class Triggers:
    """Thread-safe collection of triggers. Producers call `fire`; the loop calls `wait`, which
    returns every trigger that is ready (debounced ones after their quiet period)."""

    def __init__(self, file_debounce: float = 0.3, event_debounce: float = 0.1, clock=None):
        self._cond = threading.Condition()
        self._clock = clock or time.monotonic
        self._quiet = {"file": file_debounce, "event": event_debounce}
        self._ready: list[Trigger] = []
        self._held: dict[str, list[Trigger]] = {"file": [], "event": []}
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._woken = False

    def fire(self, trigger: Trigger) -> None:
        with self._cond:
            group = _DEBOUNCED.get(trigger.kind, (None, 0))[0]
            if group is None:
                self._ready.append(trigger)
            else:
                now = self._clock()
                self._held[group].append(trigger)
                self._first.setdefault(group, now)
                self._last[group] = now
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def files_pending(self) -> bool:
        """True while a file edit is still settling (its debounce window is open)."""
        with self._cond:
            return bool(self._held["file"])

    def _due(self, group: str, now: float) -> float | None:
        if not self._held[group]:
            return None
        max_wait = max(w for g, w in _DEBOUNCED.values() if g == group)
        return min(self._last[group] + self._quiet[group], self._first[group] + max_wait)

    def _collect(self, now: float) -> list[Trigger]:
        out, self._ready = self._ready, []
        for group in self._held:
            due = self._due(group, now)
            if due is not None and now >= due:
                out.extend(self._held[group])
                self._held[group] = []
                self._first.pop(group, None)
        return out

    def wait(self, deadline: float) -> list[Trigger]:
        """Block until a trigger is ready, `wake()` is called or `deadline` (monotonic) passes;
        return the ready triggers (possibly none)."""
        with self._cond:
            while True:
                now = self._clock()
                out = self._collect(now)
                if out or self._woken or now >= deadline:
                    self._woken = False
                    return out
                until = deadline
                for group in self._held:
                    due = self._due(group, now)
                    if due is not None:
                        until = min(until, due)
                self._cond.wait(max(0.0, until - now))


def describe_triggers(triggers: Iterable[Trigger], limit: int = 3) -> str:
    seen: list[str] = []
    for t in triggers:
        text = str(t)
        if text not in seen:
            seen.append(text)
    more = f" (+{len(seen) - limit} more)" if len(seen) > limit else ""
    return ", ".join(seen[:limit]) + more
