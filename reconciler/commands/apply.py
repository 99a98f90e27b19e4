"""`reconciler apply SPEC [NAME...]`: one reconcile pass (with names: only those containers and
what they need, plan/select.py); prints each action as it happens, then a
summary (ui.events.EventPrinter). `--output json` emits one JSON object per event. Exit 1
when anything failed."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load
from reconciler.execute.context import ExecOptions
from reconciler.plan.planner import PlanOptions
from reconciler.plan.select import select
from reconciler.reconcile import apply_pass
from reconciler.ui.events import EventPrinter


def run(args: argparse.Namespace) -> int:
    spec = load(args)
    printer = EventPrinter(args)
    with connect() as engine:
        result = apply_pass(
            spec,
            engine,
            PlanOptions(prune=not args.no_prune, adopt_compose=args.adopt_compose),
            ExecOptions(
                parallel=args.parallel,
                wait_timeout=args.wait_timeout,
                settle=args.settle,
                renew_anon_volumes=args.renew_anon_volumes,
            ),
            on_event=printer,
            on_plan=printer.plan,
            adjust=(lambda p, _state: select(p, args.names, spec)) if args.names else None,
        )
    printer.summary(result)
    return 1 if result.failed else 0
