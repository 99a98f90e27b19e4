"""What running one change came to: an `Outcome` with a `Status`. Made by the scheduler from
a handler's `Result`; read by reconcile.py, watch and the apply/destroy printers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.model.plan import Action, Change


class Status(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # nothing had to be done (a conditional change, a kept image)
    FAILED = "failed"
    SKIPPED = "skipped"  # a dependency failed, or the run was interrupted


@dataclass(frozen=True)
class Result:
    """A handler's answer for one change."""

    status: Status = Status.DONE
    message: str = ""
    object_id: str | None = None  # the container the change leaves in place, if any


@dataclass
class Outcome:
    change: Change
    status: Status
    message: str = ""
    seconds: float = 0.0
    container_id: str | None = None

    @property
    def address(self) -> str:
        return self.change.address

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "action": self.change.name,
            "status": str(self.status),
            "message": self.message,
            "seconds": round(self.seconds, 3),
        }


class ChangeFailed(ReconcilerError):
    """One change failed; the message says what and what was restored."""


def summarise(outcomes: list[Outcome]) -> dict[str, int]:
    """Counts by status, leaving out the plan's own UNCHANGED entries."""
    out: dict[str, int] = {}
    for o in outcomes:
        if o.change.action is Action.UNCHANGED and o.status is Status.UNCHANGED:
            continue
        out[str(o.status)] = out.get(str(o.status), 0) + 1
    return out
