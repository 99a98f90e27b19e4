"""Helpers shared by the subcommands at run time: the spec from the arguments, the engine
connection. (Argument declarations are in commands/parsers.py.)"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from reconciler.engine import Engine
from reconciler.load.compose.files import default_file
from reconciler.load.inputs import Inputs, choose_files, load_inputs
from reconciler.model.spec import Spec


def inputs(args: argparse.Namespace) -> Inputs:
    """The files to read (SPEC, -f, or the folder's default) and the Compose options."""
    spec, files_given = getattr(args, "spec", None), getattr(args, "files", [])
    files, explicit = choose_files(spec, files_given, os.environ)
    return Inputs(
        files,
        explicit,
        getattr(args, "project", None),
        list(getattr(args, "env_files", [])),
        list(getattr(args, "profiles", [])),
        getattr(args, "target", None),
    )


def has_input(args: argparse.Namespace) -> bool:
    """SPEC or -f given, or a default spec or Compose file in the current folder."""
    if getattr(args, "spec", None) or getattr(args, "files", None):
        return True
    return bool(os.environ.get("COMPOSE_FILE")) or default_file(Path.cwd()) is not None


def load(args: argparse.Namespace) -> Spec:
    spec, _ = load_inputs(inputs(args), os.environ)
    for warning in spec.warnings:
        print(f"warning: {warning.render()}", file=sys.stderr)
    return spec


def connect() -> Engine:
    return Engine.connect()
