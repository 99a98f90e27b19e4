"""`reconciler validate SPEC`: check a spec without touching the engine.

Exit 0 with a one-line summary when the spec is valid; exit 1 with every problem on stderr
(`FILE:LINE:COL: PATH: MESSAGE`) when it is not. `--output json` prints
`{"valid": bool, "problems": [...]}` on stdout instead. Never imports docker.
"""

from __future__ import annotations

import argparse
import os
import sys

from reconciler.errors import Location, Problem, SpecError
from reconciler.load.inputs import Inputs, choose_files, load_inputs
from reconciler.ui.output import print_json, wants_json


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run(args: argparse.Namespace) -> int:
    try:
        files, explicit = choose_files(args.spec, args.files, os.environ)
    except SpecError as exc:
        files, explicit = [], False
        problems_found = exc.problems
    shown = ", ".join(files) or "(no spec)"
    args.spec = shown
    inputs = Inputs(
        files, explicit, args.project, args.env_files, args.profiles, getattr(args, "target", None)
    )
    try:
        if not files:
            raise SpecError(problems_found)
        spec, _ = load_inputs(inputs, os.environ)
        problems: list[Problem] = []
    except SpecError as exc:
        spec, problems = None, exc.problems
    except Exception as exc:  # a bug, but validate must never show a traceback
        spec = None
        problems = [
            Problem(
                f"internal error while validating: {type(exc).__name__}: {exc} "
                "(please report this)",
                Location(args.spec, 1, 1),
            )
        ]
    if wants_json(args):
        body: dict = {"valid": spec is not None, "problems": [p.to_json() for p in problems]}
        if spec is not None:
            body["warnings"] = [p.to_json() for p in spec.warnings]
            body["project"] = spec.project
            body["images"] = len(spec.images)
            body["containers"] = len(spec.containers)
        print_json(body)
        return 0 if spec is not None else 1
    if spec is None:
        for problem in problems:
            print(problem.render(), file=sys.stderr)
        print(f"{args.spec}: {_plural(len(problems), 'problem')}", file=sys.stderr)
        return 1
    for warning in spec.warnings:
        print(f"warning: {warning.render()}", file=sys.stderr)
    parts = [_plural(len(spec.images), "image"), _plural(len(spec.containers), "container")]
    if spec.networks:
        parts.append(_plural(len(spec.networks), "network"))
    if spec.volumes:
        parts.append(_plural(len(spec.volumes), "volume"))
    print(f"{args.spec}: valid (project {spec.project}: {', '.join(parts)})")
    return 0
