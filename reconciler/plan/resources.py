"""Planning of the project's networks and volumes. Pure: no I/O; called by planner.py.

Networks: every network a container joins (the project's `default` bridge network unless a
container lists its networks) is created before its containers, recreated when its definition
changes (its containers are disconnected and reconnected by the executor), and removed once no
container of the project is left on it. External networks are used, never created or removed;
a missing one is a plan error.

Volumes: every named volume a container mounts is created before it (declared ones, and
undeclared ones like `docker run -v name:/path` would). Volumes are never removed by apply and
never changed: a changed definition is a plan error, since applying it would lose the data.
A volume or network is the project's only when it carries both the project label and the
kind label; anything else with the same name is used as it is, or refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.errors import Problem
from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_CONFIG_HASH,
    LABEL_KIND,
    LABEL_NAME,
    config_hash,
)
from reconciler.model.plan import Action, Change, Target
from reconciler.model.spec import (
    ContainerSpec,
    NetworkSpec,
    Spec,
    VolumeSpec,
    network_config,
    volume_config,
)
from reconciler.model.state import State
from reconciler.plan.containers import diff_configs

REMOVING = (Action.REMOVE, Action.REPLACE)


def network_address(key: str) -> str:
    return Target("network", key).address


def volume_address(key: str) -> str:
    return Target("volume", key).address


def _desired(container: ContainerSpec) -> bool:
    return container.state != "absent" and container.replicas > 0


def used_networks(spec: Spec) -> dict[str, NetworkSpec]:
    """Networks (by key) joined by at least one container that should exist."""
    out: dict[str, NetworkSpec] = {}
    for container in spec.containers.values():
        if _desired(container):
            for attachment in spec.attachments(container):
                out[attachment.network] = spec.network(attachment.network)
    return dict(sorted(out.items()))


def used_volumes(spec: Spec) -> dict[str, VolumeSpec]:
    """Named volumes (by key: the mount's source) mounted by a container that should exist;
    an undeclared source is a volume of that name with default settings."""
    out: dict[str, VolumeSpec] = {}
    for container in spec.containers.values():
        if not _desired(container):
            continue
        for mount in container.volumes:
            if mount.kind == "volume" and mount.source:
                out[mount.source] = spec.volumes.get(mount.source) or VolumeSpec(
                    key=mount.source, name=mount.source
                )
    return dict(sorted(out.items()))


def container_deps(spec: Spec, container: ContainerSpec) -> set[str]:
    """Addresses of the networks and volumes a container needs before it is created."""
    deps = {network_address(a.network) for a in spec.attachments(container)}
    deps |= {volume_address(m.source) for m in container.volumes if m.kind == "volume" and m.source}
    return deps


def _owned(labels: Mapping[str, str], kind: str) -> bool:
    return labels.get(LABEL_KIND) == kind


def _recorded(labels: Mapping[str, str]) -> dict[str, Any] | None:
    try:
        value = json.loads(labels.get(LABEL_CONFIG) or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _changed(diffs) -> str:
    return ", ".join(sorted({d.path.split(".")[0] for d in diffs})) or "config"


# --- networks ------------------------------------------------------------------------------------


def plan_networks(spec: Spec, state: State, errors: list[Problem]) -> list[Change]:
    changes: list[Change] = []
    for key, network in used_networks(spec).items():
        target = Target("network", key, None, network.name)
        after = network_config(network)
        path = f"networks.{key}"
        if network.external:
            if network.name in state.networks or network.name in state.other_networks:
                changes.append(Change(Action.UNCHANGED, target, "external", after=after))
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
        if observed is None or not _owned(observed.labels, "network"):
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
            changes.append(Change(Action.CREATE_NETWORK, target, "does not exist", after=after))
            continue
        before = _recorded(observed.labels)
        if observed.labels.get(LABEL_CONFIG_HASH) == config_hash(after):
            changes.append(Change(Action.UNCHANGED, target, "up to date", before, after))
            continue
        diffs = diff_configs(before or {}, after)
        changes.append(
            Change(
                Action.REPLACE_NETWORK,
                target,
                f"changed: {_changed(diffs)}; its containers are reconnected",
                before=before,
                after=after,
                diffs=diffs,
                extra={"id": observed.id},
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
    return _removals(state, "network", wanted, container_changes, "no container uses it")


def _removals(
    state: State, kind: str, keep: set[str], container_changes: Iterable[Change], reason: str
) -> list[Change]:
    deps = tuple(
        sorted(
            {
                f"container.{c.target.key}"
                for c in container_changes
                if c.target.kind == "container" and c.action is not Action.UNCHANGED
            }
        )
    )
    observed = state.networks if kind == "network" else state.volumes
    action = Action.REMOVE_NETWORK if kind == "network" else Action.REMOVE_VOLUME
    changes = []
    for name, obj in sorted(observed.items()):
        if name in keep or not _owned(obj.labels, kind):
            continue
        target = Target(kind, obj.labels.get(LABEL_NAME) or name, None, name)
        changes.append(
            Change(action, target, reason, before=_recorded(obj.labels), depends_on=deps)
        )
    return changes


# --- volumes -------------------------------------------------------------------------------------


def plan_volumes(
    spec: Spec, state: State, errors: list[Problem], warnings: list[str]
) -> list[Change]:
    changes: list[Change] = []
    for key, volume in used_volumes(spec).items():
        declared = key in spec.volumes
        target = Target("volume", key, None, volume.name)
        after = volume_config(volume)
        path = f"volumes.{key}"
        own = state.volumes.get(volume.name)
        exists = own is not None or volume.name in state.other_volumes
        if volume.external:
            if exists:
                changes.append(Change(Action.UNCHANGED, target, "external", after=after))
            else:
                errors.append(
                    Problem(
                        f"external volume {volume.name} does not exist; create it first "
                        f"(docker volume create {volume.name}) or drop `external: true`",
                        volume.location,
                        path,
                    )
                )
            continue
        if own is not None and _owned(own.labels, "volume"):
            before = _recorded(own.labels)
            recorded_hash = own.labels.get(LABEL_CONFIG_HASH)
            if recorded_hash is None or recorded_hash == config_hash(after):
                changes.append(Change(Action.UNCHANGED, target, "up to date", before, after))
                continue
            diffs = diff_configs(before or {}, after)
            shown = "; ".join(d.render() for d in diffs) or "its definition changed"
            errors.append(
                Problem(
                    f"volume {volume.name} exists with another definition ({shown}); it is not "
                    "changed, since recreating it would lose its data. Restore the definition, "
                    f"or remove the volume first (reconciler destroy --volumes, or docker volume "
                    f"rm {volume.name}) and apply again",
                    volume.location,
                    path if declared else "",
                )
            )
            changes.append(
                Change(Action.UNCHANGED, target, "changed (refused)", before, after, diffs=diffs)
            )
            continue
        if exists:
            if declared:
                warnings.append(
                    f"volume {volume.name} already exists but was not created by this project; "
                    "it is used as it is (declare it `external: true` to say so)"
                )
            changes.append(
                Change(
                    Action.UNCHANGED, target, "exists (not managed by this project)", None, after
                )
            )
            continue
        reason = "does not exist" if declared else "does not exist (used, not declared)"
        changes.append(Change(Action.CREATE_VOLUME, target, reason, after=after))
    return changes


# --- destroy -------------------------------------------------------------------------------------


def plan_destroy_resources(
    state: State,
    container_changes: Iterable[Change],
    volumes: bool,
    keep: Iterable[str] = (),
) -> list[Change]:
    """The project's networks (and volumes with `volumes`), after its containers. Only objects
    the project made (project and kind labels) are removed; `keep` names are never removed
    (the spec's external networks and volumes)."""
    container_changes = list(container_changes)
    keep = set(keep)
    changes = _removals(state, "network", keep, container_changes, "destroy")
    if volumes:
        changes += _removals(state, "volume", keep, container_changes, "destroy --volumes")
    return changes
