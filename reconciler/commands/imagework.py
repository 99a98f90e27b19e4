"""What `reconciler pull` and `reconciler build` share (not a command itself): one apply pass
whose plan is narrowed to images (plan/select.py: the named containers' images, or all;
present images pulled again, or rebuilt with --no-cache: `force`), printed like apply
(ui/events.EventPrinter)."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load
from reconciler.execute.context import ExecOptions
from reconciler.model.plan import Action, Plan
from reconciler.model.state import State
from reconciler.plan.select import force, forced_actions, keep_actions, only_images, select
from reconciler.reconcile import apply_pass
from reconciler.ui.events import EventPrinter


def run_images(args: argparse.Namespace, verb: Action, keep: tuple[Action, ...]) -> int:
    spec = load(args)
    printer = EventPrinter(args, verb=str(verb))
    no_cache = bool(getattr(args, "no_cache", False))

    def narrow(plan: Plan, _state: State) -> Plan:
        if args.names:
            plan = select(plan, args.names, spec)
        plan = only_images(plan)
        if verb is Action.PULL or no_cache:  # build: out-of-date ones only, unless --no-cache
            plan = force(plan, forced_actions(spec, plan, verb), no_cache=no_cache)
        return keep_actions(plan, keep)

    with connect() as engine:
        result = apply_pass(
            spec,
            engine,
            exec_options=ExecOptions(parallel=args.parallel),
            on_event=printer,
            on_plan=printer.plan,
            adjust=narrow,
        )
    printer.summary(result)
    return 1 if result.failed else 0
