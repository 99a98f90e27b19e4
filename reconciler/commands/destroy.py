"""`reconciler destroy SPEC`: remove everything the project owns (by its labels).

Named volumes only with --volumes; images only with --images: the images the project built
or committed, and the references its `images:` declare with `pull:` (untagged) when no other
container uses them. Apart from those, nothing without the project's labels is touched."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load
from reconciler.execute.context import ExecOptions
from reconciler.reconcile import destroy_options, destroy_pass
from reconciler.ui.events import EventPrinter


def run(args: argparse.Namespace) -> int:
    spec = load(args)
    printer = EventPrinter(args, verb="destroy")
    options = destroy_options(spec, volumes=args.volumes, images=args.images)
    with connect() as engine:
        result = destroy_pass(
            spec,
            engine,
            options,
            ExecOptions(parallel=args.parallel),
            on_event=printer,
            on_plan=printer.plan,
        )
    printer.summary(result)
    return 1 if result.failed else 0
