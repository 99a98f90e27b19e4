"""Runs volume changes: create and remove (a named volume is never changed in place: the
planner refuses that, since it would lose data). Registered for kind `volume` in registry.py.
"""

from __future__ import annotations

from reconciler.execute.context import RunContext
from reconciler.execute.outcome import ChangeFailed, Result
from reconciler.model.labels import LABEL_NAME, LABEL_PROJECT, stamp
from reconciler.model.plan import Action, Change, Kind


class VolumeHandler:
    def releases(self, change: Change) -> bool:
        return False

    def claims(self, change: Change) -> bool:
        return False

    def run(self, change: Change, ctx: RunContext) -> Result:
        name = change.target.name
        if change.action is Action.CREATE:
            config = change.after or {}
            ctx.engine.create_volume(
                name,
                driver=config.get("driver") or "local",
                driver_opts=config.get("driver_opts") or {},
                labels=stamp(
                    ctx.project, change.target.key, Kind.VOLUME, config, None, config.get("labels")
                ),
            )
            return Result(message="created")
        if change.action is Action.REMOVE:
            labels = ctx.engine.volume_labels(name)
            if labels is None:
                return Result(message="already gone")
            if (labels.get(LABEL_PROJECT), labels.get(LABEL_NAME)) != (
                ctx.project,
                change.target.key,
            ):
                owner = labels.get(LABEL_PROJECT) or "(none)"
                key = labels.get(LABEL_NAME) or "(none)"
                raise ChangeFailed(
                    f"volume {name} is not removed: its labels name project {owner} key {key}, "
                    f"not project {ctx.project} key {change.target.key}"
                )
            ctx.engine.remove_volume(name)
            return Result(message="removed")
        raise ChangeFailed(f"{change.action} is not a volume action")
