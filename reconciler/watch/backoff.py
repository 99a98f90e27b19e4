"""Exponential delays: `Backoff` (pass retries in loop.Watcher, event stream reconnects in
events.EventFollower) and `exponential_delay`, also used by crashloop.CrashBackoff."""

from __future__ import annotations


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
