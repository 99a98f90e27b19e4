"""`reconciler destroy SPEC`: remove everything the project owns (by its labels).

Named volumes only with --volumes; images only with --images: the images the project built
or committed, and the references its `images:` declare with `pull:` (untagged) when no other
container uses them. Apart from those, nothing without the project's labels is touched."""

from __future__ import annotations

import argparse

from reconciler.commands import add_output_arg, add_spec_arg
from reconciler.commands.common import add_project_arg, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "destroy", help="remove the project's containers and networks (and more on request)"
    )
    add_spec_arg(p)
    add_project_arg(p)
    add_output_arg(p)
    p.add_argument("--volumes", action="store_true", help="also remove the project's volumes")
    p.add_argument(
        "--images",
        action="store_true",
        help="also remove the images the project built or committed, and untag those its "
        "images: pull (when no other container uses them)",
    )
    p.add_argument(
        "--parallel", type=positive_int, default=8, metavar="N", help="removals run at once"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.commands.apply import EventPrinter
    from reconciler.commands.common import connect, load
    from reconciler.execute.images import ImageActions
    from reconciler.execute.scheduler import ExecOptions, Executor
    from reconciler.lock import project_lock
    from reconciler.plan.containers import DestroyOptions, plan_destroy
    from reconciler.plan.images import pulled_references
    from reconciler.reconcile import PassResult

    spec = load(args)
    printer = EventPrinter(args, verb="destroy")
    externals = [n.name for n in spec.networks.values() if n.external]
    externals += [v.name for v in spec.volumes.values() if v.external]
    options = DestroyOptions(
        volumes=args.volumes,
        images=args.images,
        keep=frozenset(externals),
        pulled=tuple(pulled_references(spec)) if args.images else (),
    )
    with connect() as engine, project_lock(spec.project):
        plan = plan_destroy(spec.project, engine.observe(spec.project), options)
        printer.plan(plan)
        executor = Executor(
            engine,
            spec.project,
            ExecOptions(parallel=args.parallel),
            printer,
            image_actions=ImageActions(spec, engine),
        )
        outcomes = executor.run(plan)
    result = PassResult(plan, tuple(outcomes))
    printer.summary(result)
    return 1 if result.failed else 0
