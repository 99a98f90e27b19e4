"""Planning of the project's networks. Pure; called by planner.py.

Every network a container joins (the project's `default` bridge network unless a container
lists its networks) is created before its containers, recreated when its definition changes
(its containers are disconnected and reconnected by execute/networks.py), and removed once no
container of the project is left on it. External networks are used, never created or
removed; a missing one is a plan error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.errors import Problem
from reconciler.model.config import network_config
from reconciler.model.labels import COMPOSE_PROJECT, LABEL_CONFIG_HASH, config_hash
from reconciler.model.plan import Action, Change, NetworkIntent, Reason, Target
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.plan.diff import diff_configs
from reconciler.plan.resources import (
    REMOVING,
    changed_fields,
    claimed_by,
    owned,
    recorded,
    removals,
    used_networks,
)


def plan_networks(spec: Spec, state: State, errors: list[Problem]) -> list[Change]:
    changes: list[Change] = []
    for key, network in used_networks(spec).items():
        target = Target("network", key, None, network.name)
        after = network_config(network)
        path = f"networks.{key}"
        if network.external:
            if network.name in state.networks or network.name in state.other_networks:
                changes.append(
                    Change(Action.UNCHANGED, target, "external", after=after, cause=Reason.EXTERNAL)
                )
            else:
                errors.append(
                    Problem(
                        f"external network {network.name} does not exist; create it first "
                        f"(docker network create {network.name}) or drop `external: true`",
                        network.location,
                        path,
                    )
                )
            continue
        observed = state.networks.get(network.name)
        found = observed or state.other_networks.get(network.name)
        owner = claimed_by(found.labels, "network", spec.project, key) if found else None
        if owner:
            errors.append(
                Problem(
                    f"engine network {network.name} belongs to {owner}; it is not shared "
                    "silently. Give this network another `name:`, or declare it "
                    "`external: true` to share it",
                    network.location,
                    path,
                )
            )
            continue
        if found is not None and found.labels.get(COMPOSE_PROJECT) == spec.project:
            changes.append(  # Compose made it for this project: used as it is, never removed
                Change(
                    Action.UNCHANGED,
                    target,
                    f"created by Compose for project {spec.project}; used as it is",
                    after=after,
                    cause=Reason.EXTERNAL,
                )
            )
            continue
        if observed is None or not owned(observed.labels, "network"):
            if observed is not None or network.name in state.other_networks:
                errors.append(
                    Problem(
                        f"network name {network.name} is taken by a network this project does "
                        "not own; remove that network, or declare it with `external: true` "
                        "to use it",
                        network.location,
                        path,
                    )
                )
                continue
            changes.append(
                Change(Action.CREATE, target, "does not exist", after=after, cause=Reason.MISSING)
            )
            continue
        before = recorded(observed.labels)
        if observed.labels.get(LABEL_CONFIG_HASH) == config_hash(after):
            changes.append(
                Change(
                    Action.UNCHANGED, target, "up to date", before, after, cause=Reason.UP_TO_DATE
                )
            )
            continue
        diffs = diff_configs(before or {}, after)
        changes.append(
            Change(
                Action.REPLACE,
                target,
                f"changed: {changed_fields(diffs)}; its containers are reconnected",
                before=before,
                after=after,
                diffs=diffs,
                intent=NetworkIntent(observed.id),
            )
        )
    return changes


def plan_network_removals(
    spec: Spec, state: State, container_changes: Iterable[Change]
) -> list[Change]:
    """The project's networks that no container is left on: removed after the containers."""
    container_changes = list(container_changes)
    wanted = {network.name for network in used_networks(spec).values()}
    wanted |= {n.name for n in spec.networks.values() if n.external}
    leaving = {c.container_id for c in container_changes if c.action in REMOVING}
    for oc in state.containers:  # containers that stay keep their networks
        if oc.id not in leaving:
            for attachment in (oc.config or {}).get("networks") or ():
                if isinstance(attachment, Mapping) and attachment.get("name"):
                    wanted.add(attachment["name"])
    return removals(state, "network", wanted, container_changes, "no container uses it")
