"""`reconciler convert [COMPOSE...] [-f FILE] [-o FILE]`: the spec v1 equivalent of Compose
files, on stdout or in a file, commented where a value was rewritten. The result gives the same
plan as the Compose files (tests/unit/load/test_compose_convert.py). Never imports docker."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from reconciler.errors import Problem, SpecError
from reconciler.load.compose.convert import render_v1
from reconciler.load.compose.loader import ComposeOptions, compose_to_v1
from reconciler.load.inputs import choose_files, is_compose


def run(args: argparse.Namespace) -> int:
    files, explicit = choose_files(args.spec, args.files, os.environ)
    if not all(is_compose(f) for f in files):
        raise SpecError(
            [Problem(f"not a Compose file (no top-level services): {', '.join(files)}")]
        )
    options = ComposeOptions(
        project=args.project,
        env_files=list(args.env_files),
        profiles=list(args.profiles),
        default_override=not explicit,
    )
    out = Path(args.out).absolute() if args.out else None
    folder = out.parent if out is not None else None
    converted = compose_to_v1(files, os.environ, options, folder)
    for warning in converted.warnings:
        print(f"warning: {warning.render()}", file=sys.stderr)
    text = render_v1(converted.v1.data, converted.v1.notes, files)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
