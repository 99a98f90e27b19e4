"""Helpers shared by the subcommands: spec loading from arguments, engine connection."""

from __future__ import annotations

import argparse
import os

from reconciler.model.spec import Spec


def add_project_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-p",
        "--project",
        help="override the spec's project name (like docker compose -p)",
    )


def seconds(text: str) -> float:
    """argparse type for a duration in seconds: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, not {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, not {text!r}")
    return value


def add_pass_args(p: argparse.ArgumentParser) -> None:
    """Options of a reconcile pass, shared by apply and watch."""
    p.add_argument("--no-prune", action="store_true", help="keep containers no longer in the spec")
    p.add_argument(
        "--parallel",
        type=positive_int,
        default=8,
        metavar="N",
        help="actions run at once (default 8)",
    )
    p.add_argument(
        "--wait-timeout",
        type=seconds,
        default=120.0,
        metavar="SECONDS",
        help="deadline for health checks and dependency conditions (default 120)",
    )


def load(args: argparse.Namespace) -> Spec:
    from reconciler.load.loader import load_spec

    return load_spec(args.spec, os.environ, getattr(args, "project", None))


def connect():
    from reconciler.engine import Engine

    return Engine.connect()
