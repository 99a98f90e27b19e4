"""Helpers shared by the subcommands at run time: the spec from the arguments, the engine
connection. (Argument declarations are in commands/parsers.py.)"""

from __future__ import annotations

import argparse
import os

from reconciler.engine import Engine
from reconciler.load.loader import load_spec
from reconciler.model.spec import Spec


def load(args: argparse.Namespace) -> Spec:
    return load_spec(args.spec, os.environ, getattr(args, "project", None))


def connect() -> Engine:
    return Engine.connect()
