"""`reconciler schema`: print the spec's JSON Schema (for editors and other tools)."""

from __future__ import annotations

import argparse
import sys

from reconciler.load.schema import schema_text


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_text())
    sys.stdout.flush()
    return 0
