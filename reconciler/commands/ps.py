"""`reconciler ps [SPEC] [-p NAME]`: a short listing of the project's containers, stopped
ones too, like `docker compose ps` (ui/listing.py); `-o json` for machines. Works from the
labels alone: without SPEC, `-p NAME` names the project."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load_or_project
from reconciler.ui.listing import print_ps, ps_rows
from reconciler.ui.output import print_json, use_color, wants_json


def run(args: argparse.Namespace) -> int:
    _, project = load_or_project(args)
    with connect() as engine:
        state = engine.observe(project)
    rows = ps_rows(state)
    if wants_json(args):
        print_json({"project": project, "containers": rows})
    elif not rows:
        print(f"Project {project}: no containers.")
    else:
        print_ps(rows, use_color(args))
    return 0
