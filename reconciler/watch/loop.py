"""The watch loop itself: `Watcher` runs one reconcile pass at a time (reconcile.apply_pass) for
the triggers its parts collect and retries failed passes. Its parts: crashloop (holding back
crash-looping containers), printer (what it says), statefile (the state file), metrics,
events, files and specsource. Run by commands/watch.py (and tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct

from reconciler.errors import PlanError, ReconcilerError
from reconciler.execute.context import ExecOptions
from reconciler.load.inputs import Inputs
from reconciler.model.plan import Plan
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.plan.planner import PlanOptions
from reconciler.reconcile import apply_pass
from reconciler.watch import printer
from reconciler.watch.backoff import Backoff
from reconciler.watch.crashloop import CrashBackoff, CrashLoopPolicy
from reconciler.watch.events import EventFollower, OwnContainers, settle_exits
from reconciler.watch.files import FileWatch
from reconciler.watch.log import WatchLog
from reconciler.watch.metrics import Metrics, MetricsServer
from reconciler.watch.report import PassReport
from reconciler.watch.specsource import SpecSource
from reconciler.watch.statefile import remove_state, state_record, write_state
from reconciler.watch.triggers import Trigger, Triggers

# Trigger kinds that bypass a pass-failure backoff: the user changed something, or the
# engine came back.
URGENT_KINDS = frozenset({"start", "spec", "context", "reconnect"})
HEALTH_CHECK_S = 1.0  # how often the loop checks its watcher threads


class WatchOptions(Struct, frozen=True):
    """The watch loop's settings, from commands/watch.py's flags; read by `Watcher`."""

    resync: float = 30.0  # seconds between backstop passes (0: none)
    debounce: float = 0.3  # trailing edge for file triggers
    event_debounce: float = 0.1  # trailing edge for engine events (rm -f = kill, die, destroy)
    prune: bool = True
    parallel: int = 8
    wait_timeout: float = 120.0
    settle: float = 1.0  # execute/settle.py
    backoff_initial: float = 1.0  # crash loops: first delay, doubling...
    backoff_max: float = 300.0  # ...up to this
    backoff_reset: float = 10.0  # a container up this long is no longer crash-looping
    retry_initial: float = 0.5  # failed passes: first retry delay, doubling...
    retry_max: float = 300.0  # ...up to this
    reconnect_initial: float = 0.25  # event stream reconnects: first delay, doubling...
    reconnect_max: float = 5.0  # ...up to this
    metrics_addr: tuple[str, int] | None = None
    state_file: bool = True


class Watcher:
    """The watch loop for one spec. `start()` loads the spec and starts the watchers (errors
    raise: bad spec, metrics address in use); `run()` runs passes until `stop()`; `close()`
    stops the watchers. `run()` is meant for its own thread; `stop()` may be called from a
    signal handler."""

    def __init__(
        self,
        spec_path: str | Path | Inputs,
        engine: Any,
        options: WatchOptions = WatchOptions(),
        log: WatchLog | None = None,
        environ: Mapping[str, str] | None = None,
        project: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.options = options
        self.log = log or WatchLog()
        self.printer = printer.PassPrinter(self.log)
        self.clock = clock
        self.source = SpecSource(spec_path, environ, project)
        self.triggers = Triggers(options.debounce, options.event_debounce)
        self.crash = CrashBackoff(
            options.backoff_initial, options.backoff_max, options.backoff_reset
        )
        self.retry = Backoff(options.retry_initial, options.retry_max)
        self.metrics = Metrics()
        self.policy = CrashLoopPolicy(self.crash, self.log, self.metrics)
        self.own = OwnContainers(clock)
        self.files = FileWatch(self.triggers.fire, self.log)
        self.events: EventFollower | None = None
        self.server: MetricsServer | None = None
        self._stop = threading.Event()
        self._cancel = threading.Event()  # ends the executor's waits: replacements roll back
        self._passes = 0
        self._pass_generation = 0
        self._retry_at: float | None = None
        self._loop_thread: threading.Thread | None = None
        self._last: PassReport | None = None
        self._started_wall = time.time()
        self.stop_reason = ""
        self.crashed: str | None = None
        self._closed = False

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def project(self) -> str:
        return self.source.spec.project if self.source.spec else ""

    @property
    def spec(self) -> Spec:
        assert self.source.spec is not None
        return self.source.spec

    @property
    def loop_alive(self) -> bool:
        t = self._loop_thread
        return t is not None and t.is_alive() and not self._stop.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        spec = self.source.load_initial()
        if self.options.metrics_addr:
            self.server = MetricsServer(self.options.metrics_addr, self)
        self.files.update(self.source.inputs(), self.source.contexts())
        self.files.check()
        self.events = EventFollower(
            self.engine,
            spec.project,
            self.triggers.fire,
            self.log,
            self._is_own,
            self.options.reconnect_initial,
            self.options.reconnect_max,
        )
        self.events.start()
        printer.print_start(
            self.log,
            self.source,
            spec.project,
            self.source.contexts(),
            self.options.resync,
            self.server.address if self.server else None,
        )

    def stop(self, reason: str = "") -> None:
        """End the loop; a pass under way ends its waits (a replacement restores the old
        container) and starts nothing new."""
        self.stop_reason = reason
        self._stop.set()
        self._cancel.set()
        self.triggers.wake()

    def close(self) -> None:
        """Stop watching (idempotent); the state file goes. Containers are left as they are."""
        self._stop.set()
        self._closed = True
        self.files.stop()
        if self.events is not None:
            self.events.stop()
        if self.server is not None:
            self.server.close()
        if self.options.state_file and self.source.spec is not None:
            remove_state(self.project)

    def run_in_thread(self) -> threading.Thread:
        self._loop_thread = threading.Thread(target=self.run, name="reconcile-loop", daemon=True)
        self._loop_thread.start()
        return self._loop_thread

    def health(self) -> tuple[bool, str]:
        if not self.loop_alive and self._loop_thread is not None:
            return False, "watch loop stopped"
        events = self.events
        if events is not None and not events.connected:
            return False, "engine event stream disconnected (reconnecting)"
        last = self._last
        if last is not None and not last.ok:
            return True, f"ok (last pass failed: {last.error or 'changes failed'}; retrying)"
        return True, "ok"

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        """The loop, until stop(). An unexpected error ends it with `crashed` set (logged)."""
        try:
            self._loop()
        except Exception as exc:  # a bug: say so plainly; the command exits 1
            self.crashed = f"{type(exc).__name__}: {exc}"
            self.log.error("crash", f"internal error, the watch loop ended: {self.crashed}")

    def _loop(self) -> None:
        batch: list[Trigger] = [Trigger("start", "initial pass")]
        next_resync = self._resync_from(self.clock())
        next_check = self.clock() + HEALTH_CHECK_S
        while not self._stop.is_set():
            now = self.clock()
            if now >= next_check:
                self._check_watchers()
                next_check = now + HEALTH_CHECK_S
            if self._retry_at is not None and now >= self._retry_at:
                batch.append(Trigger("retry", "after a failed pass"))
                self._retry_at = None
            due = self.crash.take_due(now)
            if due:
                batch.append(Trigger("backoff", "start " + ", ".join(due)))
            if next_resync is not None and now >= next_resync:
                if not batch:
                    batch.append(Trigger("resync"))
                next_resync = self._resync_from(now)
            deferred = self._retry_at is not None and not any(t.kind in URGENT_KINDS for t in batch)
            if batch and not deferred:
                self.reconcile(batch)
                batch = []
                next_resync = self._resync_from(self.clock())
                continue
            deadline = min(
                t
                for t in (
                    next_check,
                    next_resync,
                    self._retry_at,
                    self.crash.next_wakeup(),
                )
                if t is not None
            )
            batch.extend(self.triggers.wait(deadline))

    def _resync_from(self, now: float) -> float | None:
        return now + self.options.resync if self.options.resync > 0 else None

    def _check_watchers(self) -> None:
        try:
            before = self.files.restarts
            if self.files.check():
                self.triggers.fire(Trigger("spec", "a watched folder appeared"))
            if self.files.restarts != before:
                with self.metrics.lock:
                    self.metrics.watcher_restarts = self.files.restarts
            if self.events is not None and not self.events.alive and not self._stop.is_set():
                self.log.warn("engine", "the engine event follower stopped; restarting it")
                self.events.start()
        except Exception as exc:  # never let housekeeping kill the loop
            self.log.error("watcher", f"watcher check failed: {exc}")

    # --- one pass ----------------------------------------------------------------------------

    def _refresh_spec(self, batch: list[Trigger]) -> str:
        if self.triggers.files_pending():
            return "pending"  # an edit is still settling: its own trigger follows
        outcome, error = self.source.refresh()
        if outcome == "invalid" and error is not None:
            with self.metrics.lock:
                self.metrics.spec_errors += 1
        self.printer.spec_refreshed(outcome, self.source.display, error)
        if outcome in ("changed", "unchanged", "invalid"):
            self.files.update(self.source.inputs(), self.source.contexts())
        return outcome

    def reconcile(self, batch: list[Trigger]) -> None:
        """One pass for these triggers (the loop calls it; tests may too): re-read the spec's
        files; when the triggers were only file edits that changed no spec, nothing else."""
        outcome = self._refresh_spec(batch)
        only_files = all(t.kind == "spec" for t in batch)
        if only_files and outcome in ("same", "unchanged", "invalid", "missing", "pending"):
            self._write_state()
            return  # nothing new to apply
        self._passes += 1
        report = PassReport(self._passes, tuple(batch))
        generation = self.source.generation
        started = self.clock()
        try:
            self._execute(report)
        except Exception as exc:  # a bug must not end the watch: report it, retry
            report.error = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            self.own.release()
        report.seconds = self.clock() - started
        if report.ok:
            self.retry.reset()
            self._retry_at = None
        else:
            report.retry_in = self.retry.next_delay()
            self._retry_at = self.clock() + report.retry_in
        drift = self._passes > 1 and generation == self._pass_generation
        self._pass_generation = generation
        self.metrics.record_pass(
            report,
            drift,
            held_now=len(self.crash.held(self.clock())),
            reconnects=self.events.reconnects if self.events else 0,
        )
        self._last = report
        self.printer.print_pass(report)
        self._write_state()

    def _note_kills(self, triggers: Iterable[Trigger]) -> None:
        self.policy.note_kills(triggers, self.clock())

    def _execute(self, report: PassReport) -> None:
        spec = self.spec
        self._note_kills(report.triggers)
        settle_exits(self.engine, self.own.triggered_by(report.triggers), self.own)
        try:
            result = apply_pass(
                spec,
                self.engine,
                PlanOptions(prune=self.options.prune),
                ExecOptions(
                    parallel=max(1, self.options.parallel),
                    wait_timeout=self.options.wait_timeout,
                    settle=self.options.settle,
                    cancel=self._cancel,
                ),
                adjust=lambda plan, state: self._adjust(plan, state, report),
            )
        except PlanError as exc:
            report.error = "cannot plan: " + "; ".join(p.render() for p in exc.problems)
            report.problems = [p.to_json() for p in exc.problems]
            return
        except ReconcilerError as exc:
            report.error = str(exc)
            return
        self.policy.record(result.outcomes, result.plan, self.clock())
        report.add_outcomes(result.outcomes)
        report.warnings.extend(result.plan.warnings)
        for change in result.plan.actionable:
            report.warnings.extend(change.warnings)

    def _adjust(self, plan: Plan, state: State, report: PassReport) -> Plan:
        """Hold back starts (crashloop); remember what this pass stops or removes (own)."""
        plan, held = self.policy.adjust(plan, state, self.clock())
        report.held.extend(held)
        self.own.mark_plan(plan, state)
        return plan

    def _is_own(self, container_id: str) -> bool:
        return container_id in self.own

    def _write_state(self) -> None:
        if self.options.state_file and self.source.spec is not None and not self._closed:
            data = state_record(
                self.project,
                str(self.source.path),
                self._started_wall,
                self._passes,
                self.source.error,
                self._retry_at,
                self._last,
                self.crash.in_backoff(),
                now_mono=self.clock(),
            )
            write_state(self.project, data, self.log)
