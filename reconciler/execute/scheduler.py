"""Runs a Plan against the engine: dependency order, bounded parallelism, safe replacement.

Called by the apply command and by watch (through reconcile.py). Each change runs once its
dependencies finished; a failure skips its dependents (transitively) but not independent
work. A replacement stops the old container and renames it aside before creating the new one;
if create, start, health or an exec hook fails, the new one is removed and the old one is
renamed back and started, so a failure leaves the system as it was.
"""

from __future__ import annotations

import contextlib
import shlex
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.errors import EngineError, NotFound, ReconcilerError
from reconciler.execute import resources as resources_exec
from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_CONFIG_HASH,
    aside_name,
    canonical_json,
    config_hash,
    ownership_labels,
)
from reconciler.model.plan import Action, Change, Plan

EventFn = Callable[[dict[str, Any]], None]
POLL_S = 0.1
_STARTING = (Action.CREATE, Action.START, Action.REPLACE)


@dataclass(frozen=True)
class ExecOptions:
    parallel: int = 8
    wait_timeout: float = 120.0  # deadline for health / dependency conditions
    # Set from another thread (watch on SIGTERM) to end waits as Ctrl-C does: replacements
    # under way restore their old containers. None: the executor's own.
    cancel: threading.Event | None = None


@dataclass
class Outcome:
    change: Change
    status: str  # done | unchanged | failed | skipped
    message: str = ""
    seconds: float = 0.0
    container_id: str | None = None

    @property
    def address(self) -> str:
        return self.change.address

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "action": str(self.change.action),
            "status": self.status,
            "message": self.message,
            "seconds": round(self.seconds, 3),
        }


class ChangeFailed(ReconcilerError):
    """One change failed; the message says what and what was restored."""


@dataclass
class _Run:
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    containers: dict[str, list[str]] = field(default_factory=dict)  # key -> container ids
    lock: threading.Lock = field(default_factory=threading.Lock)


def group_of(change: Change) -> str:
    """The dependency group of a change: `container.web` for every replica of web."""
    return f"{change.target.kind}.{change.target.key}"


class Executor:
    def __init__(
        self,
        engine,
        project: str,
        options: ExecOptions | None = None,
        on_event: EventFn | None = None,
        image_actions=None,
    ) -> None:
        self.engine = engine
        self.project = project
        self.options = options or ExecOptions()
        self.emit = on_event or (lambda event: None)
        self.image_actions = image_actions  # builds and commits (images_exec.ImageActions)
        # set on Ctrl-C (or by the caller): waits end, replacements roll back
        self._cancel = self.options.cancel or threading.Event()

    # --- scheduling ---------------------------------------------------------------------------

    def run(self, plan: Plan) -> list[Outcome]:
        changes = list(plan.changes)
        run = _Run()
        for change in changes:
            known = change.action in (Action.UNCHANGED, Action.START, Action.STOP)
            if change.target.kind == "container" and change.container_id and known:
                run.containers.setdefault(change.target.key, []).append(change.container_id)
        groups: dict[str, list[int]] = {}
        for i, change in enumerate(changes):
            groups.setdefault(group_of(change), []).append(i)
        deps = {
            i: {j for d in c.depends_on for j in groups.get(d, ()) if j != i}
            for i, c in enumerate(changes)
        }
        # Ordering only (a failed removal skips nothing): container removals free names and
        # host ports that new containers may need, so they finish before any container starts.
        removals = {
            i
            for i, c in enumerate(changes)
            if c.target.kind == "container" and c.action is Action.REMOVE
        }
        after = {
            i: removals if c.target.kind == "container" and c.action in _STARTING else set()
            for i, c in enumerate(changes)
        }
        pending = set(range(len(changes)))
        running: dict[Future, int] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.options.parallel)) as pool:
            while pending or running:
                for i in sorted(pending):
                    blockers = (deps[i] | after[i]) - set(run.outcomes)
                    if blockers:
                        continue
                    pending.discard(i)
                    if changes[i].action is Action.UNCHANGED:  # nothing to skip
                        self._finish(run, i, Outcome(changes[i], "unchanged", changes[i].reason))
                        continue
                    failed = [
                        changes[j].address
                        for j in deps[i]
                        if run.outcomes[j].status in ("failed", "skipped")
                    ]
                    if failed:
                        self._finish(run, i, Outcome(changes[i], "skipped", _skip_msg(failed)))
                        continue
                    if self._cancel.is_set():  # interrupted: nothing new starts
                        self._finish(run, i, Outcome(changes[i], "skipped", "interrupted"))
                        continue
                    running[pool.submit(self._execute, changes[i], run)] = i
                if not running:
                    if pending:  # only possible with a dependency cycle: fail them clearly
                        for i in sorted(pending):
                            self._finish(run, i, Outcome(changes[i], "skipped", "dependency cycle"))
                        pending.clear()
                    break
                try:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    self._interrupt(running)
                    raise
                for future in done:
                    i = running.pop(future)
                    self._finish(run, i, future.result())
        return [run.outcomes[i] for i in range(len(changes))]

    def _interrupt(self, running: dict[Future, int]) -> None:
        """Ctrl-C: nothing new starts, waits (health, dependencies) end at once so that a
        replacement restores its old container, and the changes under way finish first."""
        self._cancel.set()
        for future in running:
            future.cancel()  # only those not started yet
        wait(running)

    def _finish(self, run: _Run, i: int, outcome: Outcome) -> None:
        with run.lock:
            run.outcomes[i] = outcome
            if outcome.container_id and outcome.change.target.kind == "container":
                run.containers.setdefault(outcome.change.target.key, []).append(
                    outcome.container_id
                )
        if outcome.status != "unchanged" or outcome.change.action is not Action.UNCHANGED:
            self.emit(
                {
                    "event": outcome.status,
                    "address": outcome.address,
                    "action": str(outcome.change.action),
                    "name": outcome.change.target.name,
                    "message": outcome.message,
                    "seconds": round(outcome.seconds, 3),
                }
            )

    def _execute(self, change: Change, run: _Run) -> Outcome:
        started = time.monotonic()
        self.emit(
            {
                "event": "begin",
                "address": change.address,
                "action": str(change.action),
                "name": change.target.name,
                "reason": change.reason,
            }
        )
        try:
            status, message, cid = self._dispatch(change, run)
        except ReconcilerError as exc:
            return Outcome(change, "failed", str(exc), time.monotonic() - started)
        except Exception as exc:  # a bug or an unexpected SDK error: report, never crash the run
            message = f"unexpected {type(exc).__name__}: {exc}"
            return Outcome(change, "failed", message, time.monotonic() - started)
        return Outcome(change, status, message, time.monotonic() - started, cid)

    def _dispatch(self, change: Change, run: _Run) -> tuple[str, str, str | None]:
        action = change.action
        if action is Action.PULL:
            image_id = self.engine.pull(change.target.name, self._progress(change))
            if (change.before or {}).get("id") == image_id:  # policy always, nothing new
                return "unchanged", f"pulled; image {image_id[:19]} unchanged", None
            return "done", f"pulled {image_id[:19]}", None
        if action in (Action.BUILD, Action.COMMIT, Action.REMOVE_IMAGE):
            if self.image_actions is None:
                raise EngineError(f"{action} is not supported by this executor")
            # a message, or (status, message): "unchanged" when nothing had to be made
            result = self.image_actions.run(change, self._progress(change))
            status, message = result if isinstance(result, tuple) else ("done", result)
            return status, message, None
        if action in resources_exec.ACTIONS:
            return "done", resources_exec.run(self.engine, self.project, change), None
        if action is Action.REMOVE:
            self.engine.stop_container(change.container_id, _stop_timeout(change.before))
            self.engine.remove_container(change.container_id)
            return "done", "removed", None
        if action is Action.STOP:
            self._restore_name(change)
            self.engine.stop_container(change.container_id, _stop_timeout(change.before))
            return "done", "stopped", change.container_id
        if action is Action.START:
            self._wait_dependencies(change, run)
            try:
                self._restore_name(change)
                self.engine.start_container(change.container_id)
            except NotFound:
                if not self._gone(change.container_id):
                    raise
                as_create = replace(change, action=Action.CREATE)
                cid = self._create_and_start(as_create, self._resolved(change))
                return "done", "created and started (it was removed meanwhile)", cid
            if change.extra.get("first_start"):  # created but never started: run its hooks
                try:
                    self._run_hooks(change, change.container_id)
                except ReconcilerError:
                    with contextlib.suppress(ReconcilerError):
                        self.engine.remove_container(change.container_id, volumes=False)
                    raise
            return "done", "started", change.container_id
        if action is Action.CREATE:
            config = self._resolved(change)
            self._wait_dependencies(change, run)
            cid = self._create_and_start(change, config)
            return "done", "created" + (" and started" if change.extra.get("start") else ""), cid
        if action is Action.REPLACE:
            config = self._resolved(change)
            if change.conditional and config_hash(config) == change.extra.get("current_hash"):
                self._restore_name(change)
                return "unchanged", "image ID unchanged; nothing to replace", change.container_id
            self._wait_dependencies(change, run)
            cid = self._replace(change, config)
            return "done", "replaced", cid
        raise EngineError(f"unknown action {action}")

    # --- container actions --------------------------------------------------------------------

    def _resolved(self, change: Change) -> dict[str, Any]:
        """The desired config with the image ID known (pulled or built by a dependency)."""
        config = dict(change.after or {})
        if not config.get("image_id"):
            image_id = self.engine.image_id(config["image"])
            if image_id is None:
                raise NotFound(f"image {config['image']} is not present locally")
            config["image_id"] = image_id
        return config

    def _labels(self, change: Change, config: dict[str, Any]) -> dict[str, str]:
        labels = ownership_labels(
            self.project, change.target.key, "container", change.target.replica
        )
        labels[LABEL_CONFIG_HASH] = config_hash(config)
        labels[LABEL_CONFIG] = canonical_json(config)
        return labels

    def _create_and_start(
        self, change: Change, config: dict[str, Any], carry: dict[str, str] | None = None
    ) -> str:
        """Create, start, wait for health (replacements) and run exec hooks. On failure the new
        container is removed (so that the next pass does not take it for up to date; the
        anonymous volumes carried over from the old one are kept) and the error re-raised."""
        cid = self.engine.create_container(
            config,
            self._labels(change, config),
            carry,
            volume_names=_engine_names(config.get("volumes"), "source"),
            network_names=_engine_names(config.get("networks"), "network"),
        )
        if not change.extra.get("start", True):
            return cid
        try:
            self.engine.start_container(cid)
            if change.action is Action.REPLACE and change.extra.get("healthcheck"):
                self._wait_condition(cid, "healthy", change.target.name)
            self._run_hooks(change, cid)
        except ReconcilerError:
            with contextlib.suppress(ReconcilerError):
                self.engine.remove_container(cid, volumes=not carry)
            raise
        return cid

    def _run_hooks(self, change: Change, cid: str) -> None:
        for step in change.extra.get("exec", ()):
            code, output = self.engine.exec_run(cid, list(step))
            if code != 0:
                tail = output.strip().splitlines()[-5:]
                raise ChangeFailed(
                    f"exec hook `{shlex.join(step)}` exited {code}"
                    + (": " + " | ".join(tail) if tail else "")
                )

    def _gone(self, cid: str) -> bool:
        try:
            self.engine.inspect_container(cid)
        except NotFound:
            return True
        return False

    def _replace(self, change: Change, config: dict[str, Any]) -> str:
        old = change.container_id
        name = change.target.name
        restore = change.extra.get("restore")
        try:
            carry = self.engine.anonymous_volumes(old)
        except NotFound:  # removed since it was observed: nothing to keep running
            return self._create_and_start(replace(change, action=Action.CREATE), config)
        was_running = True
        if not restore:
            was_running = bool(self.engine.inspect_container(old).get("running"))
            self.engine.stop_container(old, _stop_timeout(change.before))
            self.engine.rename_container(old, aside_name(name, old))
        try:
            new = self._create_and_start(change, config, carry)
        except ReconcilerError as exc:
            self.engine.rename_container(old, name)
            if was_running and (change.before or {}) and change.extra.get("start", True):
                self.engine.start_container(old)
            raise ChangeFailed(f"{exc}; the old container {name} was restored") from exc
        self.engine.remove_container(old, volumes=False)
        return new

    def _restore_name(self, change: Change) -> None:
        if change.extra.get("restore"):
            self.engine.rename_container(change.container_id, change.target.name)

    # --- waiting ------------------------------------------------------------------------------

    def _wait_dependencies(self, change: Change, run: _Run) -> None:
        for key, condition in change.wait_for:
            with run.lock:
                ids = list(run.containers.get(key, ()))
            for cid in ids:
                self._wait_condition(cid, condition, f"dependency {key}")

    def _wait_condition(self, cid: str, condition: str, what: str) -> None:
        deadline = time.monotonic() + self.options.wait_timeout
        while True:
            try:
                info = self.engine.inspect_container(cid)
            except NotFound as exc:
                raise ChangeFailed(f"{what}: container vanished") from exc
            status, health, code = info.get("status"), info.get("health"), info.get("exit_code")
            if condition == "started" and (
                status == "running" or (status == "exited" and code == 0)
            ):
                return
            if condition == "completed" and status == "exited":
                if code == 0:
                    return
                raise ChangeFailed(f"{what} exited with code {code}")
            if condition == "healthy":
                if health == "healthy" or (health is None and status == "running"):
                    return
                if health == "unhealthy" and status not in ("exited", "dead"):
                    raise ChangeFailed(f"{what} is unhealthy")  # an exit is said below
            if status in ("exited", "dead") and condition != "completed":
                raise ChangeFailed(
                    f"{what} exited with code {code} instead of becoming {condition}"
                )
            if time.monotonic() > deadline:
                raise ChangeFailed(
                    f"{what} did not become {condition} within {self.options.wait_timeout:g} s"
                )
            if self._cancel.wait(POLL_S):
                raise ChangeFailed(f"{what}: interrupted before it became {condition}")

    def _progress(self, change: Change) -> Callable[[dict[str, Any]], None]:
        def forward(detail: dict[str, Any]) -> None:
            self.emit({"event": "progress", "address": change.address, "detail": detail})

        return forward


def _engine_names(entries, key_field: str) -> dict[str, str]:
    """Spec key -> engine name, from a config's volumes or networks (entries with a name)."""
    return {
        e[key_field]: e["name"]
        for e in entries or ()
        if isinstance(e, dict) and e.get(key_field) and e.get("name")
    }


def _stop_timeout(config) -> float | None:
    return (config or {}).get("stop_timeout")


def _skip_msg(failed: list[str]) -> str:
    return "skipped: dependency failed: " + ", ".join(sorted(set(failed)))


def summarise(outcomes: list[Outcome]) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in outcomes:
        if o.change.action is Action.UNCHANGED and o.status == "unchanged":
            continue
        out[o.status] = out.get(o.status, 0) + 1
    return out
