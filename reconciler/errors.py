"""Error values and exception types shared by every module.

Problems are values with locations (like Terraform's diagnostics): loaders and validators
collect them, sort them and raise one SpecError; the CLI renders them as
`FILE:LINE:COL: PATH: MESSAGE`. Engine failures are translated into EngineError subclasses by
engine.py, the only module that sees the Docker SDK's exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable

from msgspec import Struct


class Location(Struct, frozen=True, order=True):
    """A 1-based position in a source file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Problem(Struct, frozen=True):
    """One located problem in the user's input (a spec, an env file, a plan precondition)."""

    message: str
    location: Location | None = None
    path: str = ""  # dotted path in the document, e.g. containers.web.ports[0]
    hint: str | None = None

    def sort_key(self) -> tuple:
        loc = self.location
        return (
            (loc.file, loc.line, loc.column) if loc else ("", 0, 0),
            self.path,
            self.message,
        )

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        path = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{path}{self.message}{hint}"

    def to_json(self) -> dict:
        loc = self.location
        return {
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class ReconcilerError(Exception):
    """Base of every error the CLI turns into a message and an exit code (never a traceback)."""

    exit_code = 1


class SpecError(ReconcilerError):
    """The spec (or a file it names) is invalid; carries every problem found, sorted."""

    def __init__(self, problems: Iterable[Problem] = ()) -> None:
        self.problems: list[Problem] = sorted(problems, key=Problem.sort_key)
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(p.render() for p in self.problems)


class PlanError(SpecError):
    """The spec is valid but cannot be planned against this engine (e.g. `policy: never`
    with the image missing, or a name taken by a container the project does not own)."""


class EngineError(ReconcilerError):
    """The Docker engine refused or failed an operation."""


class EngineUnavailable(EngineError):
    """No Docker engine answers at the configured address."""


class NotFound(EngineError):
    """The object (container, image, network, volume) does not exist."""


class Conflict(EngineError):
    """The engine reports a conflict: a name in use, a port already allocated, ..."""


class ImageError(EngineError):
    """A pull, build or commit failed; the message names the reference and the cause."""


class LockHeld(ReconcilerError):
    """Another apply/watch/destroy holds this project's lock."""
