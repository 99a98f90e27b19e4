"""The apply and destroy event printer: `EventPrinter` shows the plan's headline and warnings,
one line per finished action (with rich progress for pulls and builds on a terminal) and the
summary; or JSON lines with --output json. Used by commands/apply.py and commands/destroy.py
as the pass's on_plan / on_event callbacks."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.execute.outcome import summarise
from reconciler.model.plan import Plan
from reconciler.reconcile import PassResult
from reconciler.ui.heartbeat import Heartbeat, Work
from reconciler.ui.output import print_json, use_color, wants_json
from reconciler.ui.progress import finish, show_progress, stop_progress
from reconciler.ui.render import event_line, paint, summary_text


class EventPrinter:
    """Prints apply events: text lines, or JSON lines with --output json."""

    def __init__(self, args: argparse.Namespace, verb: str = "apply") -> None:
        self.verb = verb  # apply | destroy | pull | build: the headline's and summary's words
        self.json = wants_json(args)
        self.color = use_color(args)
        self.verbose = getattr(args, "verbose", False)
        self.progress = False  # a progress display is up
        # Not on a terminal (or JSON): a line every few seconds per pull/build under way.
        piped = not bool(getattr(sys.stdout, "isatty", lambda: False)())
        self.heartbeat = Heartbeat(self._beat) if self.json or piped else None

    def _beat(self, work: Work) -> None:
        if self.json:
            print_json(work.to_json())
        else:
            print(work.text(), flush=True)

    def __call__(self, event: dict[str, Any]) -> None:
        if self.heartbeat is not None:
            self.heartbeat.feed(event)
        if self.json:
            if event.get("event") != "progress" or self.verbose:
                print_json(event)
            return
        if event.get("event") == "progress":
            self._progress(event)
            return
        if self.progress and event.get("event") in ("done", "failed", "skipped", "unchanged"):
            finish(str(event.get("address")))
        line = event_line(event, self.color)
        if line:
            print(line, flush=True)

    def _progress(self, event: dict[str, Any]) -> None:
        self.progress = True
        show_progress(event, verbose=self.verbose)

    def plan(self, plan: Plan) -> None:
        if self.json:
            print_json({"event": "plan", **plan.to_json()})
            return
        if plan.has_changes:
            doing = {
                "apply": "Applying to",
                "destroy": "Destroying",
                "pull": "Pulling for",
                "build": "Building for",
            }.get(self.verb, self.verb)
            print(f"{doing} project {plan.project}: {summary_text(plan)}", flush=True)
        for change in plan.actionable:
            for warning in change.warnings:
                print(paint(f"warning: {warning}", "33", self.color), file=sys.stderr)
        for warning in plan.warnings:
            print(paint(f"warning: {warning}", "33", self.color), file=sys.stderr)

    def summary(self, result: PassResult) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.progress:
            stop_progress()
        counts = summarise(list(result.outcomes))
        failures = list(result.failed)
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
            self._kept(result.plan)
            return
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        noun = self.verb.capitalize()
        verdict = f"{noun} failed" if failures else f"{noun} complete"
        print(f"{verdict}: {parts}.")
        self._kept(result.plan)
        for o in failures:
            print(f"  failed: {o.address} ({o.change.target.name}): {o.message}", file=sys.stderr)

    def _kept(self, plan: Plan) -> None:
        for note in plan.kept:  # destroy: what stays, and how to remove it
            print(f"note: {note}")
