"""`reconciler diff SPEC NAME [--replica N]`: the filesystem changes made inside one of the
project's containers, like `docker diff` (A added, C changed, D deleted), the step before
`docker commit` or before a replacement that would discard them. `-o json` for machines."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load
from reconciler.ui import attach
from reconciler.ui.output import print_json, wants_json


def run(args: argparse.Namespace) -> int:
    spec = load(args)
    with connect() as engine:
        containers = attach.project_containers(engine, spec.project)
        container = attach.find_container(containers, spec.project, args.name, args.replica)
        changes = engine.filesystem_changes(container.id)
    if wants_json(args):
        print_json(
            {
                "container": container.name,
                "changes": [{"kind": kind, "path": path} for kind, path in changes],
            }
        )
    elif not changes:
        print(f"{container.name}: no changes since it was created.")
    else:
        for kind, path in changes:
            print(f"{kind} {path}")
    return 0
