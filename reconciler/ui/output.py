"""Printing for the CLI: errors, JSON, and a lazily created rich console for colour, tables
and progress. Colour only on a terminal, and never with NO_COLOR or --no-color."""

from __future__ import annotations

import argparse
import json
import os
import sys
from functools import cache
from typing import Any

from reconciler.errors import SpecError


def wants_json(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "text") == "json"


def use_color(args: argparse.Namespace | None = None, stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or (args is not None and getattr(args, "no_color", False)):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


@cache
def console(stderr: bool = False, color: bool = True):
    """A rich Console (imported only when something needs it)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return Console(
        stderr=stderr,
        width=None if tty else 200,  # pipes and files: never truncate columns
        highlight=False,
        no_color=not color,
        color_system="auto" if color else None,
    )


def print_json(value: Any, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(value, indent=None, sort_keys=False, default=str) + "\n")
    stream.flush()


# commands that never change anything: their errors do not add "nothing was changed"
READ_ONLY = frozenset({"validate", "plan", "status", "ps", "images", "diff", "logs", "schema"})


def report_error(exc: Exception, args: argparse.Namespace) -> None:
    """Show a ReconcilerError: located problems one per line, or its message."""
    if wants_json(args):
        body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, SpecError):
            body["problems"] = [p.to_json() for p in exc.problems]
        print_json(body)
        return
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        n = len(exc.problems)
        found = f"{n} problem{'s' if n != 1 else ''} found"
        if getattr(args, "command_module", None) in READ_ONLY:
            print(f"{found}.", file=sys.stderr)
        else:
            print(f"{found}; nothing was changed.", file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)
