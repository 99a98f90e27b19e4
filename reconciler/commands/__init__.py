"""One module per subcommand. Each has `register(subparsers)`, which adds its parser and sets
`handler`; heavy imports stay inside the handlers so start-up stays fast."""

from __future__ import annotations

import argparse
from importlib import import_module

# Order is the order of `reconciler --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "validate",
    "plan",
    "apply",
    "watch",
    "status",
    "destroy",
    "exec",
    "logs",
    "schema",
)


def register_all(sub: argparse._SubParsersAction) -> None:
    for name in COMMAND_MODULES:
        import_module(f"reconciler.commands.{name}").register(sub)


def add_spec_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", help="path to the spec file (YAML)")


def add_output_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        choices=("text", "json"),
        default="text",
        help="output format (json: for machines)",
    )
