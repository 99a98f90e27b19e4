"""Planning of the project's named volumes. Pure; called by planner.py.

Every named volume a container mounts is created before it (declared ones, and undeclared
ones like `docker run -v name:/path` would). Volumes are never removed by apply and never
changed: a changed definition is a plan error, since applying it would lose the data.
"""

from __future__ import annotations

from reconciler.errors import Location, Problem
from reconciler.model.config import volume_config
from reconciler.model.labels import COMPOSE_PROJECT, LABEL_CONFIG_HASH, config_hash
from reconciler.model.plan import Action, Change, Reason, Target
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.plan.diff import diff_configs
from reconciler.plan.resources import (
    claimed_by,
    owned,
    recorded,
    used_volumes,
)


def _mounted_at(spec: Spec, source: str) -> Location | None:
    """Where an undeclared volume is named: the first container that mounts it."""
    for container in spec.containers.values():
        if any(m.kind == "volume" and m.source == source for m in container.volumes):
            return container.location
    return None


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
        other = state.other_volumes.get(volume.name)
        exists = own is not None or other is not None
        found = own if own is not None else other
        owner = claimed_by(found.labels, "volume", spec.project, key) if found else None
        if owner and not volume.external:
            errors.append(
                Problem(
                    f"engine volume {volume.name} belongs to {owner}; it is not shared "
                    "silently, since that project may remove it with its data. Give this "
                    "volume another `name:`, or declare it `external: true` to share it",
                    volume.location or _mounted_at(spec, key),
                    path if declared else "",
                )
            )
            continue
        if volume.external:
            if exists:
                changes.append(
                    Change(Action.UNCHANGED, target, "external", after=after, cause=Reason.EXTERNAL)
                )
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
        if own is not None and owned(own.labels, "volume"):
            before = recorded(own.labels)
            recorded_hash = own.labels.get(LABEL_CONFIG_HASH)
            if recorded_hash is None or recorded_hash == config_hash(after):
                changes.append(
                    Change(
                        Action.UNCHANGED,
                        target,
                        "up to date",
                        before,
                        after,
                        cause=Reason.UP_TO_DATE,
                    )
                )
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
                Change(
                    Action.UNCHANGED,
                    target,
                    "changed (refused)",
                    before,
                    after,
                    diffs=diffs,
                    cause=Reason.REFUSED,
                )
            )
            continue
        if found is not None and found.labels.get(COMPOSE_PROJECT) == spec.project:
            changes.append(  # Compose named it <project>_<key> too: the data is kept
                Change(
                    Action.UNCHANGED,
                    target,
                    f"created by Compose for project {spec.project}; used as it is",
                    None,
                    after,
                    cause=Reason.EXTERNAL,
                )
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
                    Action.UNCHANGED,
                    target,
                    "exists (not managed by this project)",
                    None,
                    after,
                    cause=Reason.EXTERNAL,
                )
            )
            continue
        reason = "does not exist" if declared else "does not exist (used, not declared)"
        changes.append(Change(Action.CREATE, target, reason, after=after, cause=Reason.MISSING))
    return changes
