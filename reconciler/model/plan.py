"""The plan as data (like Terraform's internal/plans): what to do, to what, why, before/after.

Built only by planner.plan(); printed by render.py, serialised by `to_json()`, run by executor.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.errors import Problem


class Action(StrEnum):
    # containers
    CREATE = "create"
    START = "start"
    STOP = "stop"
    REPLACE = "replace"
    REMOVE = "remove"
    UNCHANGED = "unchanged"
    # images
    PULL = "pull"
    BUILD = "build"
    COMMIT = "commit"
    REMOVE_IMAGE = "remove-image"
    # networks and volumes
    CREATE_NETWORK = "create-network"
    REPLACE_NETWORK = "replace-network"  # recreated, its containers reconnected
    REMOVE_NETWORK = "remove-network"
    CREATE_VOLUME = "create-volume"
    REMOVE_VOLUME = "remove-volume"


# Terraform-like symbols for the text plan.
SYMBOLS: dict[Action, str] = {
    Action.CREATE: "+",
    Action.REPLACE: "~",
    Action.REMOVE: "-",
    Action.START: ">",
    Action.STOP: ".",
    Action.UNCHANGED: " ",
    Action.PULL: "↓",
    Action.BUILD: "*",
    Action.COMMIT: "*",
    Action.REMOVE_IMAGE: "-",
    Action.CREATE_NETWORK: "+",
    Action.REPLACE_NETWORK: "~",
    Action.REMOVE_NETWORK: "-",
    Action.CREATE_VOLUME: "+",
    Action.REMOVE_VOLUME: "-",
}


@dataclass(frozen=True, order=True)
class Target:
    """What a change acts on. `address` is stable and unique within a plan."""

    kind: str  # container | image | network | volume
    key: str  # the spec key (or label value for objects no longer in the spec)
    replica: int | None = None
    name: str = ""  # engine name (container name, image reference, network/volume name)

    @property
    def address(self) -> str:
        base = f"{self.kind}.{self.key}"
        return f"{base}[{self.replica}]" if self.replica is not None else base


@dataclass(frozen=True)
class FieldDiff:
    path: str  # e.g. env.FOO, ports[0], image_id
    before: Any
    after: Any

    def render(self) -> str:
        return f"{self.path}: {_short(self.before)} -> {_short(self.after)}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Change:
    action: Action
    target: Target
    reason: str
    before: Mapping[str, Any] | None = None  # observed config (None when nothing exists)
    after: Mapping[str, Any] | None = None  # desired config (None for remove/stop)
    diffs: tuple[FieldDiff, ...] = ()
    depends_on: tuple[str, ...] = ()  # addresses of changes that must finish first
    wait_for: tuple[tuple[str, str], ...] = ()  # (container key, condition) to wait on
    warnings: tuple[str, ...] = ()
    # For containers whose image has a pending pull/build/commit: the executor recomputes the
    # hash once the image exists and skips the change when the image ID did not change.
    conditional: bool = False
    container_id: str | None = None  # the existing container this change acts on
    extra: Mapping[str, Any] = field(default_factory=dict)  # action-specific data

    @property
    def address(self) -> str:
        return self.target.address

    def to_json(self) -> dict[str, Any]:
        return {
            "action": str(self.action),
            "address": self.address,
            "kind": self.target.kind,
            "key": self.target.key,
            "replica": self.target.replica,
            "name": self.target.name,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
            "diffs": [d.to_json() for d in self.diffs],
            "depends_on": list(self.depends_on),
            "warnings": list(self.warnings),
            "conditional": self.conditional,
        }


@dataclass(frozen=True)
class Plan:
    project: str
    changes: tuple[Change, ...] = ()  # every target, UNCHANGED included, in execution order
    warnings: tuple[str, ...] = ()
    errors: tuple[Problem, ...] = ()  # plan-time problems (nothing may be applied)

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.UNCHANGED)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.actionable:
            out[str(c.action)] = out.get(str(c.action), 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "changes": [c.to_json() for c in self.actionable],
            "unchanged": [c.address for c in self.changes if c.action is Action.UNCHANGED],
            "counts": self.counts(),
            "warnings": list(self.warnings),
            "errors": [p.to_json() for p in self.errors],
        }


def _short(value: Any, limit: int = 60) -> str:
    # JSON, so a diff reads `env.FOO: "a" -> "b"` and `ports[0]: {"container_port": 80, ...}`
    if isinstance(value, str) and value.startswith("sha256:"):
        value = value[:19]
    text = "(none)" if value is None else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
