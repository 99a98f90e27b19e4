"""Runs network changes: create, replace (recreate with its containers reconnected), remove.
Registered for kind `network` in registry.py; the planner (plan/networks.py) decides them.

A replaced network keeps its containers: they are disconnected, the network is recreated with
the new definition and they are reconnected with the aliases they had. If the new network
cannot be created, the old definition is recreated and the containers reconnected, so a
failure leaves things as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.execute.context import RunContext
from reconciler.execute.outcome import ChangeFailed, Result
from reconciler.model.labels import owned_container, stamp
from reconciler.model.plan import Action, Change, Kind


class NetworkHandler:
    def releases(self, change: Change) -> bool:
        return False

    def claims(self, change: Change) -> bool:
        return False

    def run(self, change: Change, ctx: RunContext) -> Result:
        if change.action is Action.CREATE:
            _create(ctx, change, change.after or {})
            return Result(message="created")
        if change.action is Action.REPLACE:
            count = _replace(ctx, change)
            return Result(message=f"recreated; {count} container(s) reconnected")
        if change.action is Action.REMOVE:
            ctx.engine.remove_network(change.target.name)
            return Result(message="removed")
        raise ChangeFailed(f"{change.action} is not a network action")


def _create(ctx: RunContext, change: Change, config: Mapping[str, Any]) -> None:
    ctx.engine.create_network(
        change.target.name,
        driver=config.get("driver") or "bridge",
        labels=stamp(
            ctx.project, change.target.key, Kind.NETWORK, config, None, config.get("labels")
        ),
        internal=bool(config.get("internal")),
        subnet=config.get("subnet"),
        **({"attachable": True} if config.get("attachable") else {}),  # overlays (swarm)
        **_options(config),
    )


def _options(config: Mapping[str, Any]) -> dict[str, Any]:
    """ipam, driver_opts and enable_ipv6, passed only when the config has any (issue 13)."""
    options = {k: config[k] for k in ("ipam", "driver_opts", "enable_ipv6") if k in config}
    return {"options": options} if options else {}


def _replace(ctx: RunContext, change: Change) -> int:
    engine, name = ctx.engine, change.target.name
    attached = engine.network_attachments(name)
    foreign = [a["name"] for a in attached if not owned_container(a["labels"], ctx.project)]
    if foreign:
        raise ChangeFailed(
            f"network {name} cannot be recreated: container(s) {', '.join(sorted(foreign))} "
            "that this project does not own are attached to it; disconnect them first"
        )
    for a in attached:
        engine.disconnect_network(a["id"], name)
    try:
        engine.remove_network(name)
    except ReconcilerError as exc:
        _reconnect(ctx, name, attached)
        raise ChangeFailed(f"{exc}; its containers were reconnected") from exc
    try:
        _create(ctx, change, change.after or {})
    except ReconcilerError as exc:
        restored = "its old definition could not be restored"
        if change.before:
            try:
                _create(ctx, change, change.before)
                _reconnect(ctx, name, attached)
                restored = "the old network was recreated and its containers reconnected"
            except ReconcilerError as again:
                restored += f" ({again})"
        raise ChangeFailed(f"{exc}; {restored}") from exc
    _reconnect(ctx, name, attached)
    return len(attached)


def _reconnect(ctx: RunContext, name: str, attached: list[dict[str, Any]]) -> None:
    for a in attached:
        ctx.engine.connect_network(a["id"], name, aliases=a["aliases"])
