"""Helpers shared by the subcommands: spec loading from arguments, engine connection."""

from __future__ import annotations

import argparse
import os

from reconciler.spec import Spec


def add_project_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-p",
        "--project",
        help="override the spec's project name (like docker compose -p)",
    )


def load(args: argparse.Namespace) -> Spec:
    from reconciler.loader import load_spec

    return load_spec(args.spec, os.environ, getattr(args, "project", None))


def connect():
    from reconciler.engine import Engine

    return Engine.connect()
