"""The watch loop itself: `Watcher` runs one reconcile pass at a time (reconcile.run_pass) for
the triggers its parts collect, holds back crash-looping containers, retries failed passes,
prints one line per pass and writes the state file. Run by commands/watch.py (and tests)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.errors import EngineError, ReconcilerError
from reconciler.model.plan import Action, Plan
from reconciler.model.spec import Spec
from reconciler.watch.backoff import Backoff, CrashBackoff
from reconciler.watch.events import EventFollower
from reconciler.watch.files import FileWatch
from reconciler.watch.log import WatchLog
from reconciler.watch.metrics import Metrics, MetricsServer
from reconciler.watch.specsource import SpecSource
from reconciler.watch.statefile import state_path
from reconciler.watch.triggers import Trigger, Triggers, describe_triggers

# Trigger kinds that bypass a pass-failure backoff: the user changed something, or the
# engine came back.
URGENT_KINDS = frozenset({"start", "spec", "context", "reconnect"})
# Events after which the container list may lag (see Watcher._settle).
SETTLE_ACTIONS = frozenset({"die", "stop", "oom"})
SETTLE_MAX = 10  # inspects per pass at most
# Events that say someone else stopped or killed a container (docker stop/kill): its death is
# drift, restarted at once, not a crash loop. Remembered this long (a stop may take a while).
EXTERNAL_ACTIONS = frozenset({"kill", "stop"})
KILL_MEMORY_S = 120.0
HEALTH_CHECK_S = 1.0  # how often the loop checks its watcher threads


@dataclass(frozen=True)
class WatchOptions:
    resync: float = 30.0  # seconds between backstop passes (0: none)
    debounce: float = 0.3  # trailing edge for file triggers
    event_debounce: float = 0.1  # trailing edge for engine events (rm -f = kill, die, destroy)
    prune: bool = True
    parallel: int = 8
    wait_timeout: float = 120.0
    backoff_initial: float = 1.0  # crash loops: first delay, doubling...
    backoff_max: float = 300.0  # ...up to this
    backoff_reset: float = 10.0  # a container up this long is no longer crash-looping
    retry_initial: float = 0.5  # failed passes: first retry delay, doubling...
    retry_max: float = 300.0  # ...up to this
    reconnect_initial: float = 0.25  # event stream reconnects: first delay, doubling...
    reconnect_max: float = 5.0  # ...up to this
    metrics_addr: tuple[str, int] | None = None
    state_file: bool = True


@dataclass
class PassReport:
    number: int
    triggers: tuple[Trigger, ...]
    seconds: float = 0.0
    done: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    retry_in: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


class Watcher:
    """The watch loop for one spec. `start()` loads the spec and starts the watchers (errors
    raise: bad spec, metrics address in use); `run()` runs passes until `stop()`; `close()`
    stops the watchers. `run()` is meant for its own thread; `stop()` may be called from a
    signal handler."""

    def __init__(
        self,
        spec_path: str | Path,
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
        self.clock = clock
        self.source = SpecSource(spec_path, environ, project)
        self.triggers = Triggers(options.debounce, options.event_debounce)
        self.crash = CrashBackoff(
            options.backoff_initial, options.backoff_max, options.backoff_reset
        )
        self.retry = Backoff(options.retry_initial, options.retry_max)
        self.metrics = Metrics()
        self.files = FileWatch(self.triggers.fire, self.log)
        self.events: EventFollower | None = None
        self.server: MetricsServer | None = None
        self._stop = threading.Event()
        self._cancel = threading.Event()  # ends the executor's waits: replacements roll back
        self._own: dict[str, float] = {}  # container id -> expiry (inf while its pass runs)
        self._killed: dict[str, float] = {}  # container id -> when someone else killed/stopped it
        self._own_lock = threading.Lock()
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
        contexts = self.source.contexts()
        extra = f", {len(contexts)} build context(s)" if contexts else ""
        resync = f"resync every {self.options.resync:g} s" if self.options.resync else "no resync"
        metrics = (
            f"; metrics on http://{self.server.address[0]}:{self.server.address[1]}/metrics"
            if self.server
            else ""
        )
        self.log.info(
            "watch",
            f"watching {self.source.display} (project {spec.project}{extra}); {resync}{metrics}",
            project=spec.project,
            spec=str(self.source.path),
            contexts=[str(c) for c in contexts],
            pid=os.getpid(),
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
            with contextlib.suppress(OSError):
                state_path(self.project).unlink()

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
            problems = [p.to_json() for p in error.problems]
            lines = [p.render() for p in error.problems]
            self.log.error(
                "spec-error",
                "invalid spec; keeping the last good spec (nothing was changed):\n  "
                + "\n  ".join(lines),
                problems=problems,
            )
        elif outcome == "missing":
            self.log.warn(
                "spec-missing",
                f"{self.source.display} was deleted or cannot be read; keeping the last good "
                "spec (nothing is removed)",
            )
        elif outcome == "changed":
            self.log.info(
                "spec", f"spec reloaded ({self.source.display})", generation=self.source.generation
            )
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
            self._release_own()
        report.seconds = self.clock() - started
        if report.ok:
            self.retry.reset()
            self._retry_at = None
        else:
            report.retry_in = self.retry.next_delay()
            self._retry_at = self.clock() + report.retry_in
        drift = self._passes > 1 and generation == self._pass_generation
        self._pass_generation = generation
        now = self.clock()
        with self.metrics.lock:
            m = self.metrics
            m.passes += 1
            m.failures += 0 if report.ok else 1
            m.changes += len(report.done)
            m.drift_repairs += len(report.done) if drift else 0
            m.last_duration = report.seconds
            m.last_pass_time = time.time()
            m.held_now = len(self.crash.held(now))
            m.reconnects = self.events.reconnects if self.events else 0
        self._last = report
        self._print(report)
        self._write_state()

    def _note_kills(self, triggers: Iterable[Trigger]) -> None:
        """Remember containers that someone stopped or killed (their `kill`/`stop` events;
        our own pass's are ignored upstream): their death is drift, not a crash loop."""
        now = self.clock()
        for t in triggers:
            if t.action in EXTERNAL_ACTIONS and t.ref:
                self._killed[t.ref] = now
        for cid in [c for c, at in self._killed.items() if now - at > KILL_MEMORY_S]:
            del self._killed[cid]

    def _execute(self, report: PassReport) -> None:
        from reconciler.errors import PlanError
        from reconciler.execute.scheduler import ExecOptions
        from reconciler.plan.containers import PlanOptions
        from reconciler.reconcile import run_pass

        spec = self.spec
        self._note_kills(report.triggers)
        self._settle(report.triggers)
        try:
            result = run_pass(
                spec,
                self.engine,
                PlanOptions(prune=self.options.prune),
                ExecOptions(
                    parallel=max(1, self.options.parallel),
                    wait_timeout=self.options.wait_timeout,
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
        now = self.clock()
        for o in result.outcomes:
            change = o.change
            if change.target.kind == "container":
                if o.status == "done" and change.action is Action.START:
                    self.crash.started(change.target.name, change.address, now)
                elif (
                    o.status == "done"
                    and change.action in (Action.CREATE, Action.REPLACE)
                    and change.extra.get("start", True)
                ):
                    self.crash.started(change.target.name, change.address, now, fresh=True)
            entry = {
                "address": o.address,
                "name": change.target.name,
                "action": str(change.action),
                "message": o.message,
                "seconds": round(o.seconds, 3),  # the engine's work on this change
            }
            if o.status == "done":
                report.done.append(entry)
            elif o.status in ("failed", "skipped"):
                report.failed.append({**entry, "status": o.status})
        report.warnings.extend(result.plan.warnings)
        for change in result.plan.actionable:
            report.warnings.extend(change.warnings)
        self.crash.forget(
            c.target.name
            for c in result.plan.changes
            if c.target.kind == "container" and c.action is not Action.REMOVE
        )

    def _settle(self, triggers: Iterable[Trigger]) -> None:
        """dockerd logs `die` before it finishes handling the exit and updates the container
        list, so a list right after the event may still say "running". `inspect` waits for
        the container's lock, which the exit handler holds: one inspect per dead container
        makes the pass's observe see the exit."""
        ids = list(dict.fromkeys(t.ref for t in triggers if t.action in SETTLE_ACTIONS and t.ref))
        for cid in ids[:SETTLE_MAX]:
            with contextlib.suppress(EngineError):
                self.engine.inspect_container(cid)

    def _adjust(self, plan: Plan, state: Any, report: PassReport) -> Plan:
        """Hold back STARTs of crash-looping containers (and of containers being removed:
        their destroy event triggers the pass that recreates them); remember the containers
        this pass stops or removes so that their events are not taken for drift."""
        now = self.clock()
        observed = {c.id: c for c in state.containers}
        changes = []
        for change in plan.changes:
            if change.target.kind == "container":
                oc = observed.get(change.container_id or "")
                if change.action is Action.UNCHANGED and oc is not None and oc.running:
                    self.crash.running(change.target.name, now)
                if change.action is Action.START and not change.extra.get("restore"):
                    if oc is not None and oc.status == "removing":
                        change = replace(
                            change, action=Action.UNCHANGED, reason="being removed; recreated next"
                        )
                    else:
                        change = self._hold_crash_loop(change, oc, now, report)
                own = change.action in (Action.STOP, Action.REMOVE, Action.REPLACE)
                if own and change.container_id:
                    with self._own_lock:
                        self._own[change.container_id] = float("inf")
            changes.append(change)
        return replace(plan, changes=tuple(changes))

    def _hold_crash_loop(self, change, oc, now: float, report: PassReport):
        name = change.target.name
        exit_code = oc.exit_code if oc is not None else None
        external = oc is not None and oc.id in self._killed
        wait, new_death = self.crash.wants_start(name, change.address, now, exit_code, external)
        rec = self.crash.records[name]
        if new_death and rec.quick_exits:
            with self.metrics.lock:
                self.metrics.backoffs += 1
            code = f" (code {exit_code})" if exit_code is not None else ""
            self.log.warn(
                "backoff",
                f"crash-loop backoff: {change.address} ({name}) exited{code} "
                f"{rec.ran or 0:.1f} s after its start, quick exit {rec.quick_exits} in a row; "
                f"next start in {rec.delay:g} s",
                address=change.address,
                name=name,
                quick_exits=rec.quick_exits,
                delay=rec.delay,
                exit_code=exit_code,
            )
        if wait <= 0:
            return change
        report.held.append({"address": change.address, "name": name, "start_in": round(wait, 3)})
        return replace(
            change,
            action=Action.UNCHANGED,
            reason=f"crash-loop backoff: next start in {wait:.1f} s",
        )

    def _is_own(self, container_id: str) -> bool:
        now = self.clock()
        with self._own_lock:
            for cid in [c for c, exp in self._own.items() if exp < now]:
                del self._own[cid]
            return any(
                cid == container_id or cid.startswith(container_id) or container_id.startswith(cid)
                for cid in self._own
            )

    def _release_own(self) -> None:
        expiry = self.clock() + 5.0  # events of this pass may arrive a little later
        with self._own_lock:
            for cid, exp in list(self._own.items()):
                if exp == float("inf"):
                    self._own[cid] = expiry

    # --- output ------------------------------------------------------------------------------

    def _print(self, r: PassReport) -> None:
        trigger = describe_triggers(r.triggers)
        if r.error:
            what = f"failed: {r.error.rstrip('.')}"
        elif r.failed:
            what = f"{len(r.failed)} change(s) failed, {len(r.done)} made"
        elif r.done:
            listed = ", ".join(f"{d['action']} {d['address']}" for d in r.done[:5])
            more = f" (+{len(r.done) - 5} more)" if len(r.done) > 5 else ""
            what = f"{len(r.done)} change(s): {listed}{more}"
        else:
            what = "no changes"
        if r.held:
            what += "; held back: " + ", ".join(
                f"{h['address']} (start in {h['start_in']:.1f} s)" for h in r.held
            )
        retry = f"; retrying in {r.retry_in:g} s" if r.retry_in is not None else ""
        line = f"pass {r.number} ({r.seconds:.2f} s) [{trigger}]: {what}{retry}"
        fields = {
            "pass": r.number,
            "trigger": [str(t) for t in r.triggers],
            "changes": r.done,
            "failed": r.failed,
            "held_back": r.held,
            "seconds": round(r.seconds, 4),
            "ok": r.ok,
            "error": r.error,
            "retry_in": r.retry_in,
        }
        if r.problems:
            fields["problems"] = r.problems
        if r.ok:
            self.log.info("pass", line, **fields)
        else:
            self.log.error("pass", line, **fields)
        if not self.log.json:
            for f in r.failed:
                self.log.error(
                    "change", f"  {f['status']}: {f['address']} ({f['name']}): {f['message']}"
                )
            for w in dict.fromkeys(r.warnings):
                self.log.warn("warning", f"  warning: {w}")

    def _write_state(self) -> None:
        if not self.options.state_file or self.source.spec is None or self._closed:
            return
        now_mono, now = self.clock(), time.time()
        last = self._last
        data = {
            "pid": os.getpid(),
            "project": self.project,
            "spec": str(self.source.path),
            "started": self._started_wall,
            "updated": now,
            "passes": self._passes,
            "spec_error": self.source.error,
            "retry_at": (now + self._retry_at - now_mono) if self._retry_at else None,
            "last_pass": None
            if last is None
            else {
                "number": last.number,
                "trigger": describe_triggers(last.triggers),
                "changes": len(last.done),
                "failed": len(last.failed),
                "error": last.error,
                "seconds": round(last.seconds, 4),
                "ended": now,
            },
            "backoff": {
                name: {
                    "address": rec.address,
                    "quick_exits": rec.quick_exits,
                    "delay": rec.delay,
                    "exit_code": rec.exit_code,
                    "next_start": (now + rec.next_start - now_mono)
                    if rec.dead and rec.next_start > now_mono
                    else None,
                }
                for name, rec in sorted(self.crash.in_backoff().items())
            },
        }
        path = state_path(self.project)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(data, indent=1))
            os.replace(tmp, path)
        except OSError as exc:
            self.log.debug("state", f"cannot write {path}: {exc}")
