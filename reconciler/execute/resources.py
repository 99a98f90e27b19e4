"""Runs the network and volume changes of a plan (resources_plan.py decides them).

Called by executor.py for create-network, replace-network, remove-network, create-volume and
remove-volume. A replaced network keeps its containers: they are disconnected, the network is
recreated with the new definition and they are reconnected with the aliases they had. If the
new network cannot be created, the old definition is recreated and the containers reconnected,
so a failure leaves things as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_CONFIG_HASH,
    LABEL_KIND,
    LABEL_PROJECT,
    canonical_json,
    config_hash,
    ownership_labels,
)
from reconciler.model.plan import Action, Change

ACTIONS = (
    Action.CREATE_NETWORK,
    Action.REPLACE_NETWORK,
    Action.REMOVE_NETWORK,
    Action.CREATE_VOLUME,
    Action.REMOVE_VOLUME,
)


class ResourceFailed(ReconcilerError):
    """A network or volume change failed; the message says what was restored."""


def labels_for(project: str, kind: str, key: str, config: Mapping[str, Any]) -> dict[str, str]:
    """The user's labels plus ownership, config hash and recorded config."""
    labels = dict(config.get("labels") or {})
    labels.update(ownership_labels(project, key, kind))
    labels[LABEL_CONFIG_HASH] = config_hash(config)
    labels[LABEL_CONFIG] = canonical_json(config)
    return labels


def run(engine, project: str, change: Change) -> str:
    """Apply one change; returns the outcome message."""
    action = change.action
    name = change.target.name
    if action is Action.CREATE_NETWORK:
        _create_network(engine, project, change, change.after or {})
        return "created"
    if action is Action.REPLACE_NETWORK:
        count = _replace_network(engine, project, change)
        return f"recreated; {count} container(s) reconnected"
    if action is Action.REMOVE_NETWORK:
        engine.remove_network(name)
        return "removed"
    if action is Action.CREATE_VOLUME:
        config = change.after or {}
        engine.create_volume(
            name,
            driver=config.get("driver") or "local",
            driver_opts=config.get("driver_opts") or {},
            labels=labels_for(project, "volume", change.target.key, config),
        )
        return "created"
    if action is Action.REMOVE_VOLUME:
        engine.remove_volume(name)
        return "removed"
    raise ResourceFailed(f"unknown action {action}")


def _create_network(engine, project: str, change: Change, config: Mapping[str, Any]) -> None:
    engine.create_network(
        change.target.name,
        driver=config.get("driver") or "bridge",
        labels=labels_for(project, "network", change.target.key, config),
        internal=bool(config.get("internal")),
        subnet=config.get("subnet"),
    )


def _replace_network(engine, project: str, change: Change) -> int:
    name = change.target.name
    attached = engine.network_attachments(name)
    foreign = [a["name"] for a in attached if not _owned_container(a["labels"], project)]
    if foreign:
        raise ResourceFailed(
            f"network {name} cannot be recreated: container(s) {', '.join(sorted(foreign))} "
            "that this project does not own are attached to it; disconnect them first"
        )
    for a in attached:
        engine.disconnect_network(a["id"], name)
    try:
        engine.remove_network(name)
    except ReconcilerError as exc:
        _reconnect(engine, name, attached)
        raise ResourceFailed(f"{exc}; its containers were reconnected") from exc
    try:
        _create_network(engine, project, change, change.after or {})
    except ReconcilerError as exc:
        restored = "its old definition could not be restored"
        if change.before:
            try:
                _create_network(engine, project, change, change.before)
                _reconnect(engine, name, attached)
                restored = "the old network was recreated and its containers reconnected"
            except ReconcilerError as again:
                restored += f" ({again})"
        raise ResourceFailed(f"{exc}; {restored}") from exc
    _reconnect(engine, name, attached)
    return len(attached)


def _owned_container(labels: Mapping[str, str], project: str) -> bool:
    """The project's own container: a container created by hand from an image the project
    built inherits the project label, but its kind is `image`."""
    if labels.get(LABEL_PROJECT) != project:
        return False
    return labels.get(LABEL_KIND, "container") == "container"


def _reconnect(engine, name: str, attached: list[dict[str, Any]]) -> None:
    for a in attached:
        engine.connect_network(a["id"], name, aliases=a["aliases"])
