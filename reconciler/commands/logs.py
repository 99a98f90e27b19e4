"""`reconciler logs SPEC [NAME...] [-f] [--tail N] [-p PROJECT]`: the output of the project's
containers, each line prefixed with its container name (coloured per container on a terminal).

Without -f: everything so far, merged in time order. With -f: followed, one reader per
container, until every container stops or Ctrl-C (a clean exit, status 0).
"""

from __future__ import annotations

import argparse
import sys

from reconciler.commands import add_spec_arg
from reconciler.commands.common import add_project_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "logs",
        help="show (and follow) the output of the project's containers",
        description="Show the output of the project's containers, each line prefixed with its "
        "container name.",
    )
    add_spec_arg(p)
    p.add_argument(
        "names", nargs="*", metavar="NAME", help="containers keys or container names (default all)"
    )
    add_project_arg(p)
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new output")
    p.add_argument(
        "-n", "--tail", type=int, default=None, metavar="N", help="only the last N lines of each"
    )
    p.add_argument("-t", "--timestamps", action="store_true", help="show the engine's timestamps")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.commands.common import connect, load
    from reconciler.ui import attach
    from reconciler.ui.output import use_color

    if args.tail is not None and args.tail < 0:
        args.tail = None
    spec = load(args)
    color = use_color(args)
    with connect() as engine:
        containers = attach.project_containers(engine, spec.project)
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
