"""`reconciler logs SPEC [NAME...] [-f] [--tail N] [-p PROJECT]`: the output of the project's
containers, each line prefixed with its container name (coloured per container on a terminal).

Without -f: everything so far, merged in time order. With -f: followed, one reader per
container, until every container stops or Ctrl-C (a clean exit, status 0).
"""

from __future__ import annotations

import argparse
import os
import sys

from reconciler.commands.common import connect, load
from reconciler.ui import attach, attach_swarm
from reconciler.ui.output import use_color


def run(args: argparse.Namespace) -> int:
    if args.tail is not None and args.tail < 0:
        args.tail = None
    if args.spec and (args.files or not os.path.isfile(args.spec)):  # -f: SPEC is a NAME
        args.names, args.spec = [args.spec, *args.names], None  # `logs web`: a name, not SPEC
    spec = load(args)
    color = use_color(args)
    with connect() as engine:
        containers = attach.project_containers(engine, spec.project)
        if spec.target == "swarm":  # this node's tasks; the others are named
            containers, elsewhere = attach_swarm.task_containers(engine, spec.project)
            for line in elsewhere:
                print(f"note: {line}: its logs are on that node", file=sys.stderr)
        chosen = attach.select_containers(containers, spec.project, args.names)
        if not chosen:
            print(f"Project {spec.project} has no containers.", file=sys.stderr)
            return 0
        options = {"tail": args.tail, "timestamps": args.timestamps, "color": color}
        if args.follow:
            attach.follow_logs(engine, chosen, **options)
        else:
            attach.print_logs(engine, chosen, **options)
    return 0
