"""Runs service changes (target swarm): create, update (rolling, rolled back by Swarm on
failure), scale, remove. Registered for kind `service` in registry.py; plan/services.py
decides them.

Images are pinned to the digest the registry knows (pushed first when the project built or
committed them), like `docker stack deploy`. Every change waits until Swarm converged: the
tasks running for create and scale, the update's terminal state for an update (a rollback is a
failure naming the task error Swarm gave), the tasks gone for a removal, so that networks are
removed after their services.
"""

from __future__ import annotations

import time
from typing import Any

from reconciler.errors import NotFound, ReconcilerError
from reconciler.execute.context import RunContext
from reconciler.execute.outcome import ChangeFailed, Result, Status
from reconciler.model.labels import config_hash, stamp
from reconciler.model.plan import Action, Change, Kind, ServiceIntent
from reconciler.model.swarm import (
    UPDATE_DONE,
    UPDATE_PAUSED,
    UPDATE_ROLLED_BACK,
    ObservedService,
    service_config,
)

POLL = 0.25  # seconds between two looks at a converging service


class ServiceHandler:
    def releases(self, change: Change) -> bool:
        return change.action is Action.REMOVE

    def claims(self, change: Change) -> bool:
        return change.action in (Action.CREATE, Action.UPDATE)

    def run(self, change: Change, ctx: RunContext) -> Result:
        intent = change.intent_as(ServiceIntent)
        if change.action is Action.CREATE:
            return _create(change, intent, ctx)
        if change.action is Action.UPDATE:
            return _update(change, intent, ctx)
        if change.action is Action.SCALE:
            assert intent.service_id
            ctx.engine.scale_service(intent.service_id, intent.replicas)
            service = _wait_tasks(ctx, intent.service_id, intent.replicas, change.target.name)
            return Result(message=f"scaled to {len(service.running_tasks)} task(s)")
        if change.action is Action.REMOVE:
            assert intent.service_id
            ctx.engine.remove_service(intent.service_id)
            _wait_gone(ctx, intent.service_id, change.target.name)
            return Result(message="removed")
        raise ChangeFailed(f"{change.action} is not a service action")


def _labels(ctx: RunContext, change: Change, config: dict[str, Any]) -> dict[str, str]:
    return stamp(ctx.project, change.target.key, Kind.SERVICE, config, None, config.get("labels"))


def _config(change: Change, intent: ServiceIntent, ctx: RunContext) -> dict[str, Any]:
    """The change's config; with the image ID resolved now when the image was pulled, built
    or committed in this run (the plan could not know its ID)."""
    config = dict(change.after or {})
    if not config.get("image_id") and ctx.spec is not None:
        container = ctx.spec.containers[change.target.key]
        config = service_config(ctx.spec, container, ctx.engine.image_id(intent.image))
    return config


def _create(change: Change, intent: ServiceIntent, ctx: RunContext) -> Result:
    config = _config(change, intent, ctx)
    image = ctx.engine.pinned_image(intent.image, intent.push)
    labels = _labels(ctx, change, config)
    service_id = ctx.engine.create_service(config, labels, intent.replicas, image)
    service = _wait_tasks(ctx, service_id, intent.replicas, change.target.name)
    return Result(message=f"created; {len(service.running_tasks)} task(s) running ({image})")


def _update(change: Change, intent: ServiceIntent, ctx: RunContext) -> Result:
    assert intent.service_id
    config = _config(change, intent, ctx)
    if change.conditional and config["image_id"] and config_hash(config) == intent.current_hash:
        # the image was pulled, built or committed in this run, and its ID did not change
        return Result(Status.UNCHANGED, "image unchanged; not rolled")
    image = ctx.engine.pinned_image(intent.image, intent.push)
    current = ctx.engine.inspect_service(intent.service_id)
    labels = _labels(ctx, change, config)
    ctx.engine.update_service(
        intent.service_id, current.version, config, labels, intent.replicas, image
    )
    service = _wait_update(ctx, intent.service_id, change.target.name)
    return Result(message=f"updated; {len(service.running_tasks)} task(s) running ({image})")


def _deadline(ctx: RunContext) -> float:
    return time.monotonic() + ctx.options.wait_timeout


def _wait_tasks(ctx: RunContext, service_id: str, replicas: int, name: str) -> ObservedService:
    """Until exactly `replicas` tasks run (and no other is meant to), or the deadline. A service
    scaled by someone else meanwhile ends the wait: what this change asked for was done, and
    the next pass sees the new count as drift (waiting for the old count would never end)."""
    deadline = _deadline(ctx)
    while True:
        service = _inspect(ctx, service_id, name)
        if service.replicas != replicas:
            return service
        wanted = [t for t in service.tasks if t.desired_state == "running"]
        if len(service.running_tasks) == replicas == len(wanted):
            return service
        if time.monotonic() > deadline or ctx.cancel.wait(POLL):
            raise ChangeFailed(
                f"service {name}: {len(service.running_tasks)} of {replicas} task(s) running "
                f"after {ctx.options.wait_timeout:g} s{_task_error(service)}"
            )


def _wait_update(ctx: RunContext, service_id: str, name: str) -> ObservedService:
    """Until the rolling update completed, or Swarm rolled it back or paused it."""
    deadline = _deadline(ctx)
    while True:
        service = _inspect(ctx, service_id, name)
        if service.update_state == UPDATE_DONE:
            return service
        if service.update_state == UPDATE_ROLLED_BACK:
            raise ChangeFailed(
                f"service {name}: the update failed and was rolled back; the previous version "
                f"is running{_task_error(service)}"
            )
        if service.update_state in UPDATE_PAUSED:
            raise ChangeFailed(
                f"service {name}: the update is {service.update_state.replace('_', ' ')}: "
                f"{service.update_message}{_task_error(service)}"
            )
        if time.monotonic() > deadline or ctx.cancel.wait(POLL):
            state = service.update_state or "not started"
            raise ChangeFailed(
                f"service {name}: the update did not finish in {ctx.options.wait_timeout:g} s "
                f"(state {state}){_task_error(service)}"
            )


def _inspect(ctx: RunContext, service_id: str, name: str) -> ObservedService:
    try:
        return ctx.engine.inspect_service(service_id)
    except NotFound as exc:  # removed by someone else meanwhile: the next pass sees it
        raise ChangeFailed(f"service {name} was removed while apply waited for it") from exc


def _wait_gone(ctx: RunContext, service_id: str, name: str) -> None:
    deadline = _deadline(ctx)
    while True:
        try:
            left = ctx.engine.service_leftovers(service_id)
        except ReconcilerError:
            return
        if not left:
            return
        if time.monotonic() > deadline or ctx.cancel.wait(POLL):
            raise ChangeFailed(f"service {name}: removed, but {left} task(s) are still there")


def _task_error(service: ObservedService) -> str:
    """The newest error Swarm gave for a task that is not running: `; task web.2: ...`."""
    failed = [t for t in service.tasks if t.error and not t.running]
    if not failed:
        return ""
    task = max(failed, key=lambda t: t.timestamp)
    return f"; task {service.name}.{task.slot} ({task.state}): {task.error}"
