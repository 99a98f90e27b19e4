"""Runs a Plan: dependency order, bounded parallelism, failures skip their dependents.

Called by reconcile.py (apply, watch, destroy). Generic over kinds: each change goes to the
handler registered for its target's kind (registry.HANDLERS), so adding a kind never changes
this module. A change runs once the groups it depends on finished; a failure skips its
dependents (transitively) but not independent work. Changes a handler says `claim` names or
ports run after that kind's `releases` (container removals before container starts). At most
`parallel` changes work at once (the run's slots, context.py); a change that only waits (a new
container settling, a health or dependency condition) frees its slot meanwhile, so there are
more threads than slots.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from reconciler.errors import EngineError, ReconcilerError
from reconciler.execute.context import EventFn, ExecOptions, Handler, RunContext
from reconciler.execute.outcome import Outcome, Result, Status
from reconciler.execute.registry import HANDLERS
from reconciler.model.plan import Action, Change, Plan
from reconciler.model.spec import Spec

_KNOWN = (Action.UNCHANGED, Action.START, Action.STOP)  # containers that exist and stay
# threads per slot: changes that only wait (settle, health) give their slot to others
THREADS_PER_SLOT = 4


class Executor:
    def __init__(
        self,
        engine: Any,
        project: str,
        options: ExecOptions | None = None,
        on_event: EventFn | None = None,
        spec: Spec | None = None,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.options = options or ExecOptions()
        self.emit: EventFn = on_event or (lambda event: None)
        self.handlers = HANDLERS if handlers is None else handlers
        # set on Ctrl-C (or by the caller): waits end, replacements roll back
        self._cancel = self.options.cancel or threading.Event()
        slots = threading.BoundedSemaphore(max(1, self.options.parallel))
        self.ctx = RunContext(
            engine, project, spec, self.options, self.emit, self._cancel, slots=slots
        )

    def run(self, plan: Plan) -> list[Outcome]:
        changes = list(plan.changes)
        for change in changes:
            if change.container_id and change.action in _KNOWN:
                self.ctx.record(change.target.group, change.container_id)
        groups: dict[str, list[int]] = {}
        for i, change in enumerate(changes):
            groups.setdefault(change.target.group, []).append(i)
        deps = {
            i: {j for d in c.depends_on for j in groups.get(d, ()) if j != i}
            for i, c in enumerate(changes)
        }
        after = self._ordering(changes)
        outcomes: dict[int, Outcome] = {}
        pending = set(range(len(changes)))
        running: dict[Future[Outcome], int] = {}
        threads = max(1, self.options.parallel) * THREADS_PER_SLOT
        with ThreadPoolExecutor(max_workers=threads) as pool:
            while pending or running:
                for i in sorted(pending):
                    if (deps[i] | after[i]) - set(outcomes):
                        continue
                    pending.discard(i)
                    early = self._early_outcome(changes[i], [outcomes[j] for j in deps[i]])
                    if early is not None:
                        self._finish(outcomes, i, early)
                    else:
                        running[pool.submit(self._execute, changes[i])] = i
                if not running:
                    for i in sorted(pending):  # only with a dependency cycle: fail them clearly
                        skipped = Outcome(changes[i], Status.SKIPPED, "dependency cycle")
                        self._finish(outcomes, i, skipped)
                    break
                try:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    self._interrupt(running)
                    raise
                for future in done:
                    self._finish(outcomes, running.pop(future), future.result())
        return [outcomes[i] for i in range(len(changes))]

    def _ordering(self, changes: list[Change]) -> dict[int, set[int]]:
        """Ordering only (a failed removal skips nothing): per kind, claims after releases."""
        releases: dict[str, set[int]] = {}
        for i, c in enumerate(changes):
            handler = self.handlers.get(c.target.kind)
            if handler is not None and handler.releases(c):
                releases.setdefault(c.target.kind, set()).add(i)
        out: dict[int, set[int]] = {}
        for i, c in enumerate(changes):
            handler = self.handlers.get(c.target.kind)
            claims = handler is not None and handler.claims(c)
            out[i] = releases.get(c.target.kind, set()) if claims else set()
        return out

    def _early_outcome(self, change: Change, deps: list[Outcome]) -> Outcome | None:
        """The outcome of a change that is not run: unchanged, skipped or interrupted."""
        if change.action is Action.UNCHANGED:  # nothing to skip
            return Outcome.unchanged(change)
        failed = [o.address for o in deps if o.status in (Status.FAILED, Status.SKIPPED)]
        if failed:
            message = "dependency failed: " + ", ".join(sorted(set(failed)))
            return Outcome(change, Status.SKIPPED, message)
        if self._cancel.is_set():  # interrupted: nothing new starts
            return Outcome(change, Status.SKIPPED, "interrupted")
        return None

    def _interrupt(self, running: dict[Future[Outcome], int]) -> None:
        """Ctrl-C: nothing new starts, waits (health, dependencies) end at once so that a
        replacement restores its old container, and the changes under way finish first."""
        self._cancel.set()
        for future in running:
            future.cancel()  # only those not started yet
        wait(running)

    def _finish(self, outcomes: dict[int, Outcome], i: int, outcome: Outcome) -> None:
        outcomes[i] = outcome
        change = outcome.change
        if outcome.container_id:
            self.ctx.record(change.target.group, outcome.container_id)
        if outcome.status is not Status.UNCHANGED or change.action is not Action.UNCHANGED:
            self.emit(
                {
                    "event": str(outcome.status),
                    "address": outcome.address,
                    "action": change.name,
                    "name": change.target.name,
                    "message": outcome.message,
                    "seconds": round(outcome.seconds, 3),
                }
            )

    def _execute(self, change: Change) -> Outcome:
        with self.ctx.working():  # at most `parallel` changes work at once (context.py)
            return self._run_one(change)

    def _run_one(self, change: Change) -> Outcome:
        started = time.monotonic()
        self.emit(
            {
                "event": "begin",
                "address": change.address,
                "action": change.name,
                "name": change.target.name,
                "reason": change.reason,
            }
        )
        try:
            handler = self.handlers.get(change.target.kind)
            if handler is None:
                raise EngineError(f"no handler for {change.target.kind} changes")
            result: Result = handler.run(change, self.ctx)
        except ReconcilerError as exc:
            return Outcome.failed(change, exc, time.monotonic() - started)
        except Exception as exc:  # a bug or an unexpected SDK error: report, never crash the run
            message = f"unexpected {type(exc).__name__}: {exc}"
            return Outcome(change, Status.FAILED, message, time.monotonic() - started)
        elapsed = time.monotonic() - started
        return Outcome(change, result.status, result.message, elapsed, result.object_id)
