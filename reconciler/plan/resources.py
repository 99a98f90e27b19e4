"""What networks and volumes have in common for the planner: which ones the spec uses,
ownership, recorded configs and removals. Pure; used by networks.py, volumes.py, planner.py.

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

from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_KIND,
    LABEL_NAME,
    LABEL_PROJECT,
)
from reconciler.model.plan import Action, Change, Reason, Target
from reconciler.model.spec import (
    ContainerSpec,
    NetworkSpec,
    Spec,
    VolumeSpec,
)
from reconciler.model.state import ObservedNetwork, ObservedVolume, State

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


def owned(labels: Mapping[str, str], kind: str) -> bool:
    return labels.get(LABEL_KIND) == kind


def claimed_by(labels: Mapping[str, str], kind: str, project: str, key: str) -> str | None:
    """Who else owns a network or volume the spec wants under `key`: `project X` when its
    ownership labels name another project, `key Y of this project` when they name another key
    of this one (two keys mapped to one engine name), None when it is free or ours."""
    owner = labels.get(LABEL_PROJECT)
    if not owner or labels.get(LABEL_KIND, kind) != kind:
        return None
    if owner != project:
        return f"project {owner}" + (
            f" (key {labels[LABEL_NAME]})" if labels.get(LABEL_NAME) else ""
        )
    if labels.get(LABEL_NAME) and labels[LABEL_NAME] != key:
        return f"key {labels[LABEL_NAME]} of this project"
    return None


def recorded(labels: Mapping[str, str]) -> dict[str, Any] | None:
    try:
        value = json.loads(labels.get(LABEL_CONFIG) or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def changed_fields(diffs) -> str:
    return ", ".join(sorted({d.path.split(".")[0] for d in diffs})) or "config"


def removals(
    state: State,
    kind: str,
    keep: set[str],
    container_changes: Iterable[Change],
    reason: str,
    cause: Reason = Reason.UNUSED,
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
    observed: Mapping[str, ObservedNetwork | ObservedVolume] = (
        state.networks if kind == "network" else state.volumes
    )
    changes = []
    for name, obj in sorted(observed.items()):
        if name in keep or not owned(obj.labels, kind) or not obj.labels.get(LABEL_NAME):
            continue  # removal needs labels naming this project (observe) and a key
        target = Target(kind, obj.labels[LABEL_NAME], None, name)
        changes.append(
            Change(
                Action.REMOVE,
                target,
                reason,
                before=recorded(obj.labels),
                depends_on=deps,
                cause=cause,
            )
        )
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
    changes = removals(state, "network", keep, container_changes, "destroy", Reason.DESTROY)
    if volumes:
        changes += removals(
            state, "volume", keep, container_changes, "destroy --volumes", Reason.DESTROY
        )
    return changes
