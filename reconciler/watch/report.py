"""`PassReport`: what one watch pass did (changes made and failed, starts held back, warnings,
the error). Filled by loop.Watcher and crashloop.CrashLoopPolicy; read by printer.print_pass,
statefile.state_record and metrics.Metrics.record_pass."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import Struct, field

from reconciler.execute.outcome import Outcome, Status
from reconciler.watch.triggers import Trigger


class PassReport(Struct):
    """One watch pass: filled by loop.Watcher and the crash-loop policy; printed, counted in the
    metrics and written to the state file."""

    number: int
    triggers: tuple[Trigger, ...]
    seconds: float = 0.0
    done: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    retry_in: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed

    def add_outcomes(self, outcomes: Iterable[Outcome]) -> None:
        """Record the executor's outcomes: done changes, and failed or skipped ones."""
        for o in outcomes:
            change = o.change
            entry = {
                "address": o.address,
                "name": change.target.name,
                "action": change.name,
                "message": o.message,
                "seconds": round(o.seconds, 3),  # the engine's work on this change
            }
            if o.status is Status.DONE:
                self.done.append(entry)
            elif o.status in (Status.FAILED, Status.SKIPPED):
                self.failed.append({**entry, "status": str(o.status)})
