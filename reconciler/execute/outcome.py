"""What running one change came to: an `Outcome` with a `Status`. Made by the scheduler from
a handler's `Result`; read by reconcile.py, watch and the apply/destroy printers."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from msgspec import Struct

from reconciler.errors import ReconcilerError
from reconciler.model.plan import Action, Change


class Status(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # nothing had to be done (a conditional change, a kept image)
    FAILED = "failed"
    SKIPPED = "skipped"  # a dependency failed, or the run was interrupted


class Cause(StrEnum):
    """Why a change failed, when something reads it (watch's crash-loop policy)."""

    EXITED_AFTER_START = "exited-after-start"  # the new container died in its settle window


class Result(Struct, frozen=True):
    """A handler's answer for one change."""

    status: Status = Status.DONE
    message: str = ""
    object_id: str | None = None  # the container the change leaves in place, if any


class Outcome(Struct):
    """How one change ended: made by the scheduler (from a handler's `Result`), read by
    reconcile.py, watch and the printers."""

    change: Change
    status: Status
    message: str = ""
    seconds: float = 0.0
    container_id: str | None = None
    cause: Cause | None = None  # a FAILED change's typed cause, if known
    container_exit: int | None = None  # with EXITED_AFTER_START: the container's exit code

    @classmethod
    def unchanged(cls, change: Change) -> Outcome:
        """The outcome of a change that has nothing to do (never run by a handler)."""
        return cls(change, Status.UNCHANGED, change.reason)

    @classmethod
    def failed(cls, change: Change, exc: BaseException, seconds: float) -> Outcome:
        """A FAILED outcome for `exc`, with the typed cause of the first ChangeFailed in its
        chain that has one (a rollback re-raises the settle failure `from` it)."""
        found: BaseException | None = exc
        while found is not None and not (isinstance(found, ChangeFailed) and found.cause):
            found = found.__cause__
        if not isinstance(found, ChangeFailed):
            return cls(change, Status.FAILED, str(exc), seconds)
        return cls(
            change, Status.FAILED, str(exc), seconds, None, found.cause, found.container_exit
        )

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

    cause: Cause | None = None
    container_exit: int | None = None  # not `exit_code`: that is the CLI's (ReconcilerError)


class ExitedAfterStart(ChangeFailed):
    """The new container exited (or its restart policy restarted it) within its settle window
    after the start (raised by execute/settle.py): for watch, a start and a quick exit."""

    cause = Cause.EXITED_AFTER_START

    def __init__(self, message: str, exit_code: int | None) -> None:
        super().__init__(message)
        self.container_exit = exit_code


def summarise(outcomes: list[Outcome]) -> dict[str, int]:
    """Counts by status, leaving out the plan's own UNCHANGED entries."""
    out: dict[str, int] = {}
    for o in outcomes:
        if o.change.action is Action.UNCHANGED and o.status is Status.UNCHANGED:
            continue
        out[str(o.status)] = out.get(str(o.status), 0) + 1
    return out
