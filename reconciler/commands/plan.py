"""`reconciler plan SPEC`: show what apply would do, Terraform-style.

Exit codes: 0 success; 1 error; with --detailed-exitcode, 2 when there are changes.
"""

from __future__ import annotations

import argparse

from reconciler.commands import add_output_arg, add_spec_arg
from reconciler.commands.common import add_project_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="show the changes apply would make")
    add_spec_arg(p)
    add_project_arg(p)
    add_output_arg(p)
    p.add_argument("--no-prune", action="store_true", help="keep containers no longer in the spec")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when there is nothing to do, 2 when there are changes, 1 on error",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.commands.common import connect, load
    from reconciler.errors import PlanError
    from reconciler.plan.containers import PlanOptions
    from reconciler.reconcile import make_plan
    from reconciler.ui.output import print_json, use_color, wants_json
    from reconciler.ui.render import render_plan

    spec = load(args)
    with connect() as engine:
        plan, _ = make_plan(spec, engine, PlanOptions(prune=not args.no_prune))
    if plan.errors:
        raise PlanError(list(plan.errors))
    if wants_json(args):
        print_json(plan.to_json())
    else:
        print(render_plan(plan, use_color(args)))
    return 2 if args.detailed_exitcode and plan.has_changes else 0
