"""`reconciler apply SPEC`: one reconcile pass; prints each action as it happens, then a
summary. `--output json` emits one JSON object per event. Exit 1 when anything failed."""

from __future__ import annotations

import argparse
import sys

from reconciler.commands import add_output_arg, add_spec_arg
from reconciler.commands.common import add_pass_args, add_project_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apply", help="converge the engine to the spec (one pass)")
    add_spec_arg(p)
    add_project_arg(p)
    add_output_arg(p)
    add_apply_args(p)
    p.set_defaults(handler=run)


def add_apply_args(p: argparse.ArgumentParser) -> None:
    add_pass_args(p)
    p.add_argument("-v", "--verbose", action="store_true", help="show full pull and build logs")


def run(args: argparse.Namespace) -> int:
    from reconciler.commands.common import connect, load
    from reconciler.execute.scheduler import ExecOptions
    from reconciler.plan.containers import PlanOptions
    from reconciler.reconcile import run_pass

    spec = load(args)
    printer = EventPrinter(args)
    with connect() as engine:
        result = run_pass(
            spec,
            engine,
            PlanOptions(prune=not args.no_prune),
            ExecOptions(parallel=args.parallel, wait_timeout=args.wait_timeout),
            on_event=printer,
            on_plan=printer.plan,
        )
    printer.summary(result)
    return 1 if result.failed else 0


class EventPrinter:
    """Prints apply events: text lines, or JSON lines with --output json."""

    def __init__(self, args: argparse.Namespace, verb: str = "apply") -> None:
        from reconciler.ui.output import use_color, wants_json

        self.verb = verb  # apply | destroy: the words of the headline and the summary
        self.json = wants_json(args)
        self.color = use_color(args)
        self.verbose = getattr(args, "verbose", False)
        self.progress = None

    def __call__(self, event: dict) -> None:
        from reconciler.ui.output import print_json
        from reconciler.ui.render import event_line

        if self.json:
            if event.get("event") != "progress" or self.verbose:
                print_json(event)
            return
        if event.get("event") == "progress":
            self._progress(event)
            return
        if self.progress and event.get("event") in ("done", "failed", "skipped", "unchanged"):
            from reconciler.ui.progress import finish

            finish(str(event.get("address")))
        line = event_line(event, self.color)
        if line:
            print(line, flush=True)

    def _progress(self, event: dict) -> None:
        from reconciler.ui.progress import show_progress

        self.progress = True
        show_progress(event, verbose=self.verbose)

    def plan(self, plan) -> None:
        from reconciler.ui.output import print_json
        from reconciler.ui.render import paint

        if self.json:
            print_json({"event": "plan", **plan.to_json()})
            return
        if plan.has_changes:
            from reconciler.ui.render import summary_text

            doing = {"apply": "Applying to", "destroy": "Destroying"}.get(self.verb, self.verb)
            print(f"{doing} project {plan.project}: {summary_text(plan)}", flush=True)
        for change in plan.actionable:
            for warning in change.warnings:
                print(paint(f"warning: {warning}", "33", self.color), file=sys.stderr)
        for warning in plan.warnings:
            print(paint(f"warning: {warning}", "33", self.color), file=sys.stderr)

    def summary(self, result) -> None:
        from reconciler.execute.scheduler import summarise
        from reconciler.ui.output import print_json

        if self.progress:
            from reconciler.ui.progress import stop_progress

            stop_progress()

        counts = summarise(list(result.outcomes))
        failures = [o for o in result.outcomes if o.status == "failed"]
        if self.json:
            print_json(
                {
                    "event": "summary",
                    "project": result.plan.project,
                    "counts": counts,
                    "failed": [o.to_json() for o in failures],
                }
            )
            return
        if not result.plan.has_changes:
            if self.verb == "destroy":
                print(f"Nothing to destroy: project {result.plan.project} owns nothing.")
            else:
                print(f"No changes. Project {result.plan.project} is up to date.")
            return
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        noun = self.verb.capitalize()
        verdict = f"{noun} failed" if failures else f"{noun} complete"
        print(f"{verdict}: {parts}.")
        for o in failures:
            print(f"  failed: {o.address} ({o.change.target.name}): {o.message}", file=sys.stderr)
