"""target swarm: (Spec, State) -> service changes. Pure; called by planner.py instead of the
container planner when `spec.target == "swarm"`.

Each `containers:` entry is one replicated service `<project>_<key>`. The service's config
hash (model/swarm.py's service_config, which includes the resolved image ID) is kept in a
service label: an equal hash and equal replicas is UNCHANGED (no API call), equal hash with
other replicas is SCALE, another hash is UPDATE (a rolling update that Swarm rolls back on
failure). Services of the project no longer in the spec are removed, and so are plain
containers of the project (a project moved from `target: engine`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from msgspec.structs import replace

from reconciler.errors import Problem
from reconciler.model.labels import config_hash
from reconciler.model.plan import Action, Change, Kind, Reason, ServiceIntent, Target
from reconciler.model.spec import ContainerSpec, Spec
from reconciler.model.state import State
from reconciler.model.swarm import ObservedService, SwarmState, service_config, service_name
from reconciler.plan.containers import _dependency_order
from reconciler.plan.diff import diff_configs
from reconciler.plan.resources import REMOVING, container_deps, removals, used_networks


def plan_services(
    spec: Spec,
    state: State,
    prune: bool,
    pending_images: Mapping[str, str],
    errors: list[Problem],
    warnings: list[str],
) -> list[Change]:
    swarm = state.swarm or SwarmState()
    observed = dict(swarm.services)
    changes: list[Change] = []
    # plain containers of the project (from `target: engine`): they give way to the services
    for oc in sorted(state.containers, key=lambda oc: (oc.key, -oc.replica, oc.name)):
        target = Target(Kind.CONTAINER, oc.key, oc.replica or None, oc.name)
        reason = "target is swarm: the service replaces it"
        changes.append(Change(Action.REMOVE, target, reason, before=oc.config, container_id=oc.id))
    for key in _dependency_order(spec.containers):
        container = spec.containers[key]
        change = _plan_service(spec, container, state, observed.pop(key, None), pending_images)
        if change is None:
            continue
        if change.action is Action.CREATE and change.target.name in swarm.foreign_names:
            errors.append(
                Problem(
                    f"service name {change.target.name} is taken by a service this project "
                    "does not own; remove or rename it",
                    container.location,
                    f"containers.{key}",
                )
            )
            continue
        changes.append(change)
    for key, service in sorted(observed.items()):
        target = Target(Kind.SERVICE, key, None, service.name)
        if prune:
            changes.append(_remove(target, service, "no longer in the spec", Reason.UNUSED))
        else:
            warnings.append(f"{service.name}: not in the spec; kept (--no-prune)")
    return changes


def _remove(target: Target, service: ObservedService, reason: str, cause: Reason) -> Change:
    intent = ServiceIntent(service_id=service.id, replicas=0, current_hash=service.config_hash)
    return Change(Action.REMOVE, target, reason, before=service.config, intent=intent, cause=cause)


def _plan_service(
    spec: Spec,
    container: ContainerSpec,
    state: State,
    current: ObservedService | None,
    pending_images: Mapping[str, str],
) -> Change | None:
    key = container.key
    target = Target(Kind.SERVICE, key, None, service_name(spec.project, key))
    if container.state == "absent":
        if current is None:
            return None
        return _remove(target, current, "state absent", Reason.SCALED_DOWN)
    reference = spec.image_reference(container.image)
    image_change = pending_images.get(reference)
    image_id = None if image_change else state.image_id(reference)
    after = service_config(spec, container, image_id)
    deps = {f"service.{d.target}" for d in container.depends_on}
    deps |= {f"container.{key}"} | container_deps(spec, container)
    if image_change:
        deps.add(image_change)
    image = spec.images.get(container.image)
    intent = ServiceIntent(
        service_id=current.id if current else None,
        replicas=container.replicas,
        current_hash=current.config_hash if current else None,
        image=reference,
        push=image is not None and image.kind in ("build", "commit"),
    )
    common: dict[str, Any] = {
        "after": after,
        "depends_on": tuple(sorted(deps)),
        "intent": intent,
        "warnings": _warnings(spec, container),
    }
    if current is None:
        return Change(Action.CREATE, target, "does not exist", cause=Reason.MISSING, **common)
    common["before"] = current.config
    desired_hash = config_hash(after) if image_id else None
    if desired_hash is not None and desired_hash == current.config_hash:
        common["warnings"] = ()
        if current.replicas == container.replicas:
            return Change(Action.UNCHANGED, target, "up to date", cause=Reason.UP_TO_DATE, **common)
        reason = f"replicas {current.replicas} -> {container.replicas}"
        return Change(Action.SCALE, target, reason, cause=Reason.CHANGED, **common)
    diffs = diff_configs(current.config or {}, after)
    if desired_hash is None and image_change:
        reason = f"image {reference} is updated first; rolled only if its ID changes"
        return Change(
            Action.UPDATE,
            target,
            reason,
            diffs=diffs,
            conditional=True,
            cause=Reason.PENDING_IMAGE,
            **common,
        )
    changed = sorted({d.path.split(".")[0].split("[")[0] for d in diffs}) or ["config"]
    return Change(Action.UPDATE, target, "changed: " + ", ".join(changed), diffs=diffs, **common)


def _warnings(spec: Spec, container: ContainerSpec) -> tuple[str, ...]:
    out = []
    for mount in container.volumes:
        if mount.kind == "volume" and mount.source:
            out.append(
                f"volume {spec.volume_name(mount.source)} is node-local on a Swarm: each node "
                "running a task of this service has its own copy"
            )
        elif mount.kind == "bind":
            out.append(
                f"bind mount {mount.source}: the path must exist on every node that may run "
                "a task of this service"
            )
    return tuple(out)


def plan_service_network_removals(
    spec: Spec, state: State, service_changes: Iterable[Change]
) -> list[Change]:
    """The project's networks that no service is left on: removed after the services."""
    service_changes = list(service_changes)
    wanted = {network.name for network in used_networks(spec).values()}
    wanted |= {n.name for n in spec.networks.values() if n.external}
    leaving = {c.target.key for c in service_changes if c.action in REMOVING}
    for key, service in (state.swarm or SwarmState()).services.items():
        if key not in leaving:
            for attachment in (service.config or {}).get("networks") or ():
                if isinstance(attachment, Mapping) and attachment.get("name"):
                    wanted.add(attachment["name"])
    return after_services(
        removals(state, "network", wanted, service_changes, "no service uses it"),
        service_changes,
    )


def after_services(changes: list[Change], service_changes: Iterable[Change]) -> list[Change]:
    """`changes` (network or volume removals), each after every service change that acts."""
    groups = {
        c.target.group
        for c in service_changes
        if c.action is not Action.UNCHANGED and c.target.kind in (Kind.SERVICE, Kind.CONTAINER)
    }
    return [replace(c, depends_on=tuple(sorted({*c.depends_on, *groups}))) for c in changes]


def without_task_users(state: State) -> State:
    """The state without the project's services' task containers among image users: they go
    with their services, so the images they run can be removed after them."""
    swarm = state.swarm or SwarmState()
    prefixes = tuple(f"{s.name}." for s in swarm.services.values())
    if not prefixes:
        return state
    users = {
        image: tuple(n for n in names if not n.startswith(prefixes))
        for image, names in state.image_users.items()
    }
    return replace(state, image_users={k: v for k, v in users.items() if v})


def destroy_services(state: State) -> list[Change]:
    """Every service labelled with the project."""
    swarm = state.swarm or SwarmState()
    return [
        _remove(Target(Kind.SERVICE, key, None, s.name), s, "destroy", Reason.DESTROY)
        for key, s in sorted(swarm.services.items())
    ]
