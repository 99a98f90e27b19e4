"""`reconciler plan SPEC`: show what apply would do, Terraform-style.

Exit codes: 0 success; 1 error; with --detailed-exitcode, 2 when there are changes.
"""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load
from reconciler.errors import PlanError
from reconciler.plan.planner import PlanOptions
from reconciler.reconcile import make_plan
from reconciler.ui.output import print_json, use_color, wants_json
from reconciler.ui.render import render_plan


def run(args: argparse.Namespace) -> int:
    spec = load(args)
    with connect() as engine:
        options = PlanOptions(prune=not args.no_prune, adopt_compose=args.adopt_compose)
        plan, _ = make_plan(spec, engine, options)
    if plan.errors:
        raise PlanError(list(plan.errors))
    if wants_json(args):
        print_json(plan.to_json())
    else:
        print(render_plan(plan, use_color(args)))
    return 2 if args.detailed_exitcode and plan.has_changes else 0
