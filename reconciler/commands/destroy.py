"""`reconciler destroy SPEC` or `reconciler destroy -p NAME`: remove everything the project
owns (by its labels). Without SPEC (the spec file gone or broken) the project is found by its
labels alone: the tool never leaves a user unable to clean up what it made.

Named volumes only with --volumes (on a terminal, after listing them and asking, unless
--yes); images only with --images: the images the project built or committed, and the
references its `images:` declare with `pull:` (untagged) when no other container uses them.
Apart from those, nothing without the project's labels is touched."""

from __future__ import annotations

import argparse
import sys

from reconciler.commands.common import connect, load_or_project
from reconciler.errors import ReconcilerError
from reconciler.execute.context import ExecOptions
from reconciler.model.plan import Action, Kind, Plan
from reconciler.plan.planner import DestroyOptions
from reconciler.reconcile import destroy_options, destroy_project
from reconciler.ui.events import EventPrinter
from reconciler.ui.output import wants_json
from reconciler.ui.prompt import confirm, is_interactive


class Declined(ReconcilerError):
    """The user answered no: nothing was removed."""


def volumes_removed(plan: Plan) -> list[str]:
    return [
        c.target.name
        for c in plan.changes
        if c.target.kind == Kind.VOLUME and c.action is Action.REMOVE
    ]


def run(args: argparse.Namespace) -> int:
    spec, project = load_or_project(args)
    printer = EventPrinter(args, verb="destroy")
    if spec is not None:
        options = destroy_options(spec, volumes=args.volumes, images=args.images)
    else:
        options = DestroyOptions(volumes=args.volumes, images=args.images)
    ask = args.volumes and not args.yes and not wants_json(args) and is_interactive()

    def on_plan(plan: Plan) -> None:
        doomed = volumes_removed(plan) if ask else []
        if doomed:
            print(f"destroy --volumes deletes {len(doomed)} volume(s) and the data in them:")
            for name in doomed:
                print(f"  {name}")
            if not confirm("Delete them?"):
                raise Declined("nothing was removed (answer y, or pass --yes)")
        printer.plan(plan)

    with connect() as engine:
        result = destroy_project(
            project,
            engine,
            options,
            ExecOptions(parallel=args.parallel),
            on_event=printer,
            on_plan=on_plan,
            spec=spec,
            swarm=spec is None and getattr(args, "target", None) == "swarm",
        )
    if spec is None and args.images and not wants_json(args):
        print(
            "note: without the spec, --images removed only the images the project built or "
            "committed; pulled images are kept",
            file=sys.stderr,
        )
    printer.summary(result)
    return 1 if result.failed else 0
