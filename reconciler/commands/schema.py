"""`reconciler schema`: print the spec's JSON Schema (for editors and other tools)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schema",
        help="print the spec's JSON Schema",
        description="Print the JSON Schema (draft 2020-12) of the spec format. Editors use it "
        "via `# yaml-language-server: $schema=...`.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.load.validate import schema_text

    sys.stdout.write(schema_text())
    sys.stdout.flush()
    return 0
