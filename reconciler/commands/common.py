"""Helpers shared by the subcommands at run time: the spec from the arguments, the engine
connection. (Argument declarations are in commands/parsers.py.)"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from reconciler.engine import Engine
from reconciler.errors import Problem, SpecError
from reconciler.load.compose.files import default_file
from reconciler.load.inputs import Inputs, choose_files, load_inputs
from reconciler.load.normalize.scalars import PROJECT_RE
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


def load_or_project(args: argparse.Namespace) -> tuple[Spec | None, str]:
    """The spec and its project; without SPEC, (None, -p's project): commands that can work
    from the labels alone (status, ps, images, destroy) never need a readable spec file. A
    spec found by default (not named) that cannot be read does not stand in the way of -p:
    a warning, then the labels alone."""
    project = getattr(args, "project", None)
    if has_input(args):
        try:
            spec = load(args)
        except SpecError as exc:
            named = getattr(args, "spec", None) or getattr(args, "files", None)
            if named or not project:
                _print_without_spec_hint(args)
                raise
            print(
                f"warning: the spec found in this folder cannot be read ({len(exc.problems)} "
                f"problem(s): `reconciler validate`); project {project} from its labels alone",
                file=sys.stderr,
            )
        else:
            return spec, spec.project
    if not project:
        parser = getattr(args, "parser", None)
        message = "give SPEC, or -p NAME to act on a project by its labels alone"
        if parser is not None:
            parser.error(message)
        raise SpecError([Problem(message)])
    if not PROJECT_RE.match(project):
        raise SpecError(
            [
                Problem(
                    f"invalid project name {project!r} (from --project): use lowercase "
                    "letters, digits, - and _, starting with a letter or digit"
                )
            ]
        )
    return None, project


def _print_without_spec_hint(args: argparse.Namespace) -> None:
    """A spec that cannot be read: say how to reach the project without it."""
    command = getattr(args, "command_module", "status")
    project = getattr(args, "project", None) or "NAME"
    print(
        f"hint: without a readable spec, `reconciler {command} -p {project}` works from the "
        "project's labels alone",
        file=sys.stderr,
    )


def connect() -> Engine:
    return Engine.connect()
