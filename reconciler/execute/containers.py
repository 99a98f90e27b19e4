"""Runs container changes: create, start, stop, replace, remove. Registered for kind
`container` in registry.py; the scheduler calls `ContainerHandler.run`.

A replacement stops the old container and renames it aside before creating the new one; if
create, start, health or an exec hook fails, the new one is removed and the old one is renamed
back and started, so a failure leaves the system as it was. A new container with exec hooks
runs as `<name>--hooks-<token>` until its hooks succeed and only then takes its name, so an
apply killed before that leaves a container the next plan removes and creates again.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import time
from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace

from reconciler.errors import NotFound, ReconcilerError
from reconciler.execute.context import RunContext
from reconciler.execute.filesources import write_sources
from reconciler.execute.outcome import ChangeFailed, Result, Status
from reconciler.execute.settle import settle
from reconciler.model.labels import aside_name, config_hash, hooks_pending_name, stamp
from reconciler.model.plan import Action, Change, ContainerIntent, Kind

POLL_S = 0.1
_CLAIMS = (Action.CREATE, Action.START, Action.REPLACE)


class ContainerHandler:
    def releases(self, change: Change) -> bool:
        return change.action is Action.REMOVE

    def claims(self, change: Change) -> bool:
        return change.action in _CLAIMS

    def run(self, change: Change, ctx: RunContext) -> Result:
        engine = ctx.engine
        intent = change.intent_as(ContainerIntent)
        action = change.action
        if action is Action.REMOVE:
            engine.stop_container(change.container_id, _stop_timeout(change.before))
            engine.remove_container(change.container_id, volumes=intent.remove_volumes)
            return Result(Status.DONE, "removed")
        if action is Action.STOP:
            _restore_name(change, intent, ctx)
            engine.stop_container(change.container_id, _stop_timeout(change.before))
            return Result(Status.DONE, "stopped", change.container_id)
        if action is Action.START:
            return self._start(change, intent, ctx)
        if action is Action.CREATE:
            config = _resolved(change, ctx)
            _wait_dependencies(change, ctx)
            cid = _create_and_start(change, intent, config, ctx)
            return Result(Status.DONE, "created" + (" and started" if intent.start else ""), cid)
        if action is Action.REPLACE:
            config = _resolved(change, ctx)
            if change.conditional and config_hash(config) == intent.current_hash:
                _restore_name(change, intent, ctx)
                message = "image ID unchanged; nothing to replace"
                return Result(Status.UNCHANGED, message, change.container_id)
            _wait_dependencies(change, ctx)
            return Result(Status.DONE, "replaced", _replace(change, intent, config, ctx))
        raise ChangeFailed(f"{action} is not a container action")

    def _start(self, change: Change, intent: ContainerIntent, ctx: RunContext) -> Result:
        _wait_dependencies(change, ctx)
        try:
            _restore_name(change, intent, ctx)
            ctx.engine.start_container(change.container_id)
        except NotFound:
            if not _gone(change.container_id, ctx):
                raise
            as_create = replace(change, action=Action.CREATE)
            cid = _create_and_start(as_create, intent, _resolved(change, ctx), ctx)
            return Result(Status.DONE, "created and started (it was removed meanwhile)", cid)
        settle(_existing(change), change.target.name, False, ctx)
        if intent.first_start:  # created but never started: run its hooks
            try:
                _run_hooks(intent, _existing(change), ctx)
            except ReconcilerError:
                with contextlib.suppress(ReconcilerError):
                    ctx.engine.remove_container(change.container_id, volumes=False)
                raise
        return Result(Status.DONE, "started", change.container_id)


def _resolved(change: Change, ctx: RunContext) -> dict[str, Any]:
    """The desired config with the image ID known (pulled or built by a dependency)."""
    config = dict(change.after or {})
    if not config.get("image_id"):
        image_id = ctx.engine.image_id(config["image"])
        if image_id is None:
            raise NotFound(f"image {config['image']} is not present locally")
        config["image_id"] = image_id
    return config


def _create_and_start(
    change: Change,
    intent: ContainerIntent,
    config: dict[str, Any],
    ctx: RunContext,
    carry: dict[str, str] | None = None,
) -> str:
    """Create, start, settle (settle.py) and run exec hooks. On failure the new container is
    removed (so that the next pass does not take it for up to date; the anonymous volumes
    carried over from the old one are kept) and the error re-raised; a create that does not
    settle is kept, stopped, for its logs."""
    target = change.target
    labels = stamp(ctx.project, target.key, Kind.CONTAINER, config, target.replica)
    pending = bool(intent.start and intent.hooks)  # named as pending until its hooks complete
    if pending:
        # os.urandom, not uuid: importing uuid costs start-up (it imports platform)
        config = {**config, "name": hooks_pending_name(target.name, os.urandom(16).hex())}
    write_sources(ctx.spec, config)  # secret/config files from environment or content
    cid: str = ctx.engine.create_container(
        config,
        labels,
        carry,
        volume_names=_engine_names(config.get("volumes"), "source"),
        network_names=_engine_names(config.get("networks"), "network"),
    )
    if not intent.start:
        return cid
    try:
        ctx.engine.start_container(cid)
    except ReconcilerError:
        _discard(cid, carry, ctx)
        raise
    try:
        settle(cid, target.name, intent.healthcheck, ctx)
    except ReconcilerError:
        if change.action is Action.CREATE:
            # kept, stopped, for its logs: the next pass starts it again (watch holds a crash
            # loop back); one with a hooks-pending name is created again
            with contextlib.suppress(ReconcilerError):
                ctx.engine.stop_container(cid, 0)
        else:
            _discard(cid, carry, ctx)
        raise
    try:
        _run_hooks(intent, cid, ctx)
        if pending:
            ctx.engine.rename_container(cid, target.name)
    except ReconcilerError:
        _discard(cid, carry, ctx)
        raise
    return cid


def _discard(cid: str, carry: dict[str, str] | None, ctx: RunContext) -> None:
    """Remove a new container that failed (keeping the anonymous volumes carried over)."""
    with contextlib.suppress(ReconcilerError):
        ctx.engine.remove_container(cid, volumes=not carry)


def _run_hooks(intent: ContainerIntent, cid: str, ctx: RunContext) -> None:
    for step in intent.hooks:
        code, output = ctx.engine.exec_run(cid, list(step))
        if code != 0:
            tail = output.strip().splitlines()[-5:]
            raise ChangeFailed(
                f"exec hook `{shlex.join(step)}` exited {code}"
                + (": " + " | ".join(tail) if tail else "")
            )


def _gone(cid: str | None, ctx: RunContext) -> bool:
    try:
        ctx.engine.inspect_container(cid)
    except NotFound:
        return True
    return False


def _replace(
    change: Change, intent: ContainerIntent, config: dict[str, Any], ctx: RunContext
) -> str:
    engine = ctx.engine
    old = _existing(change)
    name = change.target.name
    try:
        carry = engine.anonymous_volumes(old) if not ctx.options.renew_anon_volumes else {}
    except NotFound:  # removed since it was observed: nothing to keep running
        return _create_and_start(replace(change, action=Action.CREATE), intent, config, ctx)
    was_running = True
    if not intent.restore:
        was_running = bool(engine.inspect_container(old).get("running"))
        engine.stop_container(old, _stop_timeout(change.before))
        engine.rename_container(old, aside_name(name, old))
    try:
        new = _create_and_start(change, intent, config, ctx, carry)
    except ReconcilerError as exc:
        name = intent.adopt_from or name  # an adopted Compose container gets its own name back
        try:
            engine.rename_container(old, name)
            if was_running and (change.before or intent.adopt_from) and intent.start:
                engine.start_container(old)
        except ReconcilerError as again:
            raise ChangeFailed(
                f"{exc}; rolling back failed too: {again}; the old container {name} is left stopped"
            ) from exc
        raise ChangeFailed(f"{exc}; the old container {name} was restored") from exc
    engine.remove_container(old, volumes=ctx.options.renew_anon_volumes)
    return new


def _existing(change: Change) -> str:
    """The container a start, stop or replacement acts on (the planner always sets it)."""
    if change.container_id is None:
        raise ChangeFailed(f"{change.address}: no existing container to act on")
    return change.container_id


def _restore_name(change: Change, intent: ContainerIntent, ctx: RunContext) -> None:
    if intent.restore:
        ctx.engine.rename_container(change.container_id, change.target.name)


# --- waiting -------------------------------------------------------------------------------------


def _wait_dependencies(change: Change, ctx: RunContext) -> None:
    for key, condition in change.wait_for:
        for cid in ctx.objects(f"{Kind.CONTAINER}.{key}"):
            wait_condition(cid, condition, f"dependency {key}", ctx)


def wait_condition(cid: str, condition: str, what: str, ctx: RunContext) -> None:
    """Poll until the container is started/healthy/completed; fail clearly on exit, on
    unhealthy, at the deadline, or when the run is cancelled."""
    with ctx.waiting():  # only waits and reads: the change's slot is free meanwhile
        _wait_condition(cid, condition, what, ctx)


def _wait_condition(cid: str, condition: str, what: str, ctx: RunContext) -> None:
    timeout = ctx.options.wait_timeout
    deadline = time.monotonic() + timeout
    while True:
        try:
            info = ctx.engine.inspect_container(cid)
        except NotFound as exc:
            raise ChangeFailed(f"{what}: container vanished") from exc
        status, health, code = info.get("status"), info.get("health"), info.get("exit_code")
        if condition == "started" and (status == "running" or (status == "exited" and code == 0)):
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
            raise ChangeFailed(f"{what} exited with code {code} instead of becoming {condition}")
        if time.monotonic() > deadline:
            raise ChangeFailed(f"{what} did not become {condition} within {timeout:g} s")
        if ctx.cancel.wait(POLL_S):
            raise ChangeFailed(f"{what}: interrupted before it became {condition}")


def _engine_names(entries: Any, key_field: str) -> dict[str, str]:
    """Spec key -> engine name, from a config's volumes or networks (entries with a name)."""
    return {
        e[key_field]: e["name"]
        for e in entries or ()
        if isinstance(e, Mapping) and e.get(key_field) and e.get("name")
    }


def _stop_timeout(config: Mapping[str, Any] | None) -> float | None:
    return (config or {}).get("stop_timeout")
