"""plan(spec, state) -> Plan: the only place that decides what to do. Pure: no I/O.

Called by the plan/apply/status commands and by watch. Containers are compared through the
config hash label (labels.config_hash over config.container_config, which includes the resolved
image ID); field diffs come from the config JSON label. Crash leftovers of a replacement (a
container renamed aside) are recovered from the labels. Images (pulls, builds, commits and
their removal) are decided by images_plan.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace

from reconciler.errors import Problem
from reconciler.model.config import container_config
from reconciler.model.labels import config_hash, hooks_pending, is_aside
from reconciler.model.plan import Action, Change, ContainerIntent, Reason, Target
from reconciler.model.spec import ContainerSpec, Spec, container_name
from reconciler.model.state import ObservedContainer, State
from reconciler.plan import adopt
from reconciler.plan.dependents import follow_replacements
from reconciler.plan.diff import diff_configs
from reconciler.plan.resources import container_deps

# --- containers ----------------------------------------------------------------------------------


def plan_containers(
    spec: Spec,
    state: State,
    prune: bool,
    pending_images: Mapping[str, str],
    errors: list[Problem],
    warnings: list[str],
    adopt_compose: bool = False,
) -> list[Change]:
    """`adopt_compose`: replace the containers Compose created for this project (plan/adopt.py);
    without it they are named in a warning and never touched."""
    compose = adopt.compose_replicas(state)
    warnings += adopt.warnings(spec, state, adopt_compose)
    by_key: dict[str, list[ObservedContainer]] = {}
    for oc in state.containers:
        by_key.setdefault(oc.key, []).append(oc)
    completed_targets = {
        d.target
        for c in spec.containers.values()
        for d in c.depends_on
        if d.condition == "completed"
    }
    changes: list[Change] = []
    for key in _dependency_order(spec.containers):
        container = spec.containers[key]
        changes.extend(
            _plan_container(
                spec,
                container,
                state,
                by_key.pop(key, []),
                pending_images,
                key in completed_targets,
                errors,
                compose,
                adopt_compose,
            )
        )
    for key in sorted(by_key):  # project containers whose key is no longer in the spec
        leftovers = sorted(by_key[key], key=lambda oc: (-oc.replica, oc.name))
        for oc in leftovers:
            # a container with only a copied project label has no key: shown by its name
            target = Target("container", key or oc.name, oc.replica or None, oc.name)
            if prune:
                changes.append(
                    Change(
                        Action.REMOVE,
                        target,
                        "no longer in the spec",
                        before=oc.config,
                        container_id=oc.id,
                    )
                )
            else:
                warnings.append(f"{oc.name}: not in the spec; kept (--no-prune)")
    return follow_replacements(spec, changes)  # service: network mode, depends_on restart


def _dependency_order(containers: Mapping[str, ContainerSpec]) -> list[str]:
    """Keys in depends_on order (dependencies first), ties broken by name. Cycles are rejected
    by validation; any left are broken deterministically."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(key: str, stack: tuple[str, ...]) -> None:
        if key in seen or key in stack or key not in containers:
            return
        for dep in sorted(d.target for d in containers[key].depends_on):
            visit(dep, (*stack, key))
        seen.add(key)
        order.append(key)

    for key in sorted(containers):
        visit(key, ())
    return order


def _plan_container(
    spec: Spec,
    container: ContainerSpec,
    state: State,
    observed: list[ObservedContainer],
    pending_images: Mapping[str, str],
    is_completion_target: bool,
    errors: list[Problem],
    compose: Mapping[tuple[str, int], ObservedContainer] | None = None,
    adopt_compose: bool = False,
) -> list[Change]:
    key = container.key
    reference = spec.image_reference(container.image)
    image_change = pending_images.get(reference)
    image_id = None if image_change else state.image_id(reference)
    desired = 0 if container.state == "absent" else container.replicas
    replicas: dict[int, list[ObservedContainer]] = {}
    for oc in observed:
        replicas.setdefault(oc.replica, []).append(oc)

    changes: list[Change] = []
    deps = tuple(
        sorted(
            {f"container.{d.target}" for d in container.depends_on}
            | _opt(image_change)
            | container_deps(spec, container)
        )
    )
    wait_for = tuple((d.target, d.condition) for d in container.depends_on)
    for replica in range(1, desired + 1):
        name = container_name(spec.project, container, replica)
        target = Target("container", key, replica, name)
        after = container_config(spec, container, replica, image_id)
        found = replicas.pop(replica, [])
        current = next((oc for oc in found if oc.name == name), None)
        restore = None
        unfinished = None
        aside = sorted((oc for oc in found if is_aside(oc.name)), key=lambda oc: -oc.created)
        if aside and (current is None or not _settled(current)):
            # An interrupted replacement: the old container is still aside and the new one is
            # missing or never proved itself. Restore the old one and replace it again, so the
            # new one is checked (health, hooks) before the old one goes.
            unfinished, current, restore = current, aside[0], aside[0].name
        for extra in found:
            if extra is not current:
                reason = _UNFINISHED if extra is unfinished else _extra_reason(extra)
                changes.append(_remove(target, extra, reason, Reason.LEFTOVER))
        held = (compose or {}).get((key, replica))
        if held is not None and current is None:  # created by Compose for this project
            common = {"after": after, "depends_on": deps, "wait_for": wait_for}
            intent = ContainerIntent(
                start=container.state == "running",
                hooks=tuple(tuple(s) for s in container.exec),
                healthcheck=container.healthcheck is not None,
            )
            changes.append(adopt.decide(held, target, common, intent, adopt_compose))
            continue
        foreign = state.foreign_names.get(name)
        if foreign and current is None:
            errors.append(
                Problem(
                    f"container name {name} is taken by container {foreign[:12]}, which this "
                    f"project does not own; remove or rename it, or set another `name:`",
                    container.location,
                    f"containers.{key}",
                )
            )
            continue
        changes.append(
            _decide(
                container,
                target,
                current,
                restore,
                after,
                deps,
                wait_for,
                image_change,
                is_completion_target,
            )
        )
    for replica in sorted(replicas, reverse=True):  # scale down: highest replica first
        for oc in sorted(replicas[replica], key=lambda oc: oc.name):
            target = Target("container", key, replica or None, oc.name)
            reason = (
                "state absent"
                if container.state == "absent"
                else (f"replica {replica} > replicas {container.replicas}")
            )
            changes.append(_remove(target, oc, reason, Reason.SCALED_DOWN))
    return changes


def _opt(value: str | None) -> set[str]:
    return {value} if value else set()


_UNFINISHED = "new container of an interrupted replacement that never became ready"


def _settled(oc: ObservedContainer) -> bool:
    """Running and not (yet, or any more) failing its health check."""
    return oc.running and oc.health not in ("starting", "unhealthy")


def _extra_reason(oc: ObservedContainer) -> str:
    if hooks_pending(oc.name):
        return "its exec hooks never completed (interrupted); it is created again"
    if is_aside(oc.name):
        return "leftover of an interrupted replacement"
    return "duplicate of this replica (name changed)"


def _remove(
    target: Target, oc: ObservedContainer, reason: str, cause: Reason = Reason.UNUSED
) -> Change:
    target = Target(target.kind, target.key, target.replica, oc.name)
    return Change(Action.REMOVE, target, reason, before=oc.config, container_id=oc.id, cause=cause)


def _decide(
    container: ContainerSpec,
    target: Target,
    current: ObservedContainer | None,
    restore: str | None,
    after: dict[str, Any],
    deps: tuple[str, ...],
    wait_for: tuple[tuple[str, str], ...],
    image_change: str | None,
    is_completion_target: bool,
) -> Change:
    run = container.state == "running"
    common: dict[str, Any] = {"after": after, "depends_on": deps, "wait_for": wait_for}
    intent = ContainerIntent(
        start=run,
        hooks=tuple(tuple(s) for s in container.exec),
        healthcheck=container.healthcheck is not None,
    )
    if current is None:
        reason = "does not exist" if run else "does not exist (created stopped)"
        return Change(Action.CREATE, target, reason, intent=intent, cause=Reason.MISSING, **common)

    intent = replace(
        intent,
        current_hash=current.config_hash,
        restore=restore,
        # never started (an interrupted create): hooks still due
        first_start=current.status == "created",
    )
    common.update(before=current.config, container_id=current.id, intent=intent)
    before = current.config
    desired_hash = config_hash(after) if after["image_id"] else None
    restored = f"; restore {restore} (interrupted replacement)" if restore else ""
    if desired_hash is not None and current.config_hash == desired_hash:
        if run and not current.running:
            if is_completion_target and current.status == "exited" and current.exit_code == 0:
                if restore:
                    return Change(
                        Action.START, target, f"restore{restored}", cause=Reason.RESTORE, **common
                    )
                return Change(
                    Action.UNCHANGED, target, "completed", cause=Reason.COMPLETED, **common
                )
            return Change(
                Action.START,
                target,
                _why_not_running(current) + restored,
                cause=Reason.NOT_RUNNING,
                **common,
            )
        if not run and current.running:
            return Change(
                Action.STOP, target, "state stopped" + restored, cause=Reason.SHOULD_STOP, **common
            )
        if restore:
            action = Action.START if run else Action.STOP
            return Change(action, target, f"restore{restored}", cause=Reason.RESTORE, **common)
        return Change(Action.UNCHANGED, target, "up to date", cause=Reason.UP_TO_DATE, **common)

    diffs = diff_configs(before or {}, after)
    if desired_hash is None and image_change:
        same_but_image = before is not None and _same_except_image(before, after)
        if same_but_image:
            reason = f"image {after['image']} is updated first; replaced only if its ID changes"
            return Change(
                Action.REPLACE,
                target,
                reason + restored,
                diffs=diffs,
                conditional=True,
                cause=Reason.PENDING_IMAGE,
                **common,
            )
    if before is None:
        reason = "no recorded config (created by an older version); recreate"
    else:
        changed = sorted({d.path.split(".")[0].split("[")[0] for d in diffs}) or ["config"]
        reason = "changed: " + ", ".join(changed)
    return Change(Action.REPLACE, target, reason + restored, diffs=diffs, **common)


def _why_not_running(oc: ObservedContainer) -> str:
    if oc.status == "exited":
        code = f" (code {oc.exit_code})" if oc.exit_code is not None else ""
        return f"exited{code}; should be running"
    return f"{oc.status}; should be running"


def _same_except_image(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    strip = lambda cfg: {k: v for k, v in cfg.items() if k != "image_id"}  # noqa: E731
    return strip(before) == strip(after)


def destroy_containers(state: State) -> list[Change]:
    """Every container labelled with the project, highest replica first."""
    return [
        _remove(
            Target("container", oc.key, oc.replica or None, oc.name), oc, "destroy", Reason.DESTROY
        )
        for oc in sorted(state.containers, key=lambda oc: (oc.key, -oc.replica, oc.name))
    ]
