"""The plan as data (like Terraform's internal/plans): what to do, to what, why, before/after.

Built only by the planner (plan/); printed by ui/render.py, serialised by `to_json()`, run by
execute/. An `Action` is a verb; what it acts on is the `Target`'s `Kind`. What a handler needs
beyond before/after travels as a typed intent (`ContainerIntent`, `ImageIntent`, ...), and the
category of a change's reason is a `Reason`, so nothing branches on display text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from msgspec import Struct, field

from reconciler.errors import Problem
from reconciler.model.ids import short_id


class Action(StrEnum):
    """What a change does. The same verbs serve every kind."""

    CREATE = "create"
    START = "start"
    STOP = "stop"
    REPLACE = "replace"  # containers: recreated; networks: recreated, containers reconnected
    REMOVE = "remove"
    UNCHANGED = "unchanged"
    PULL = "pull"
    BUILD = "build"
    COMMIT = "commit"
    UPDATE = "update"  # services: a rolling update to a new definition
    SCALE = "scale"  # services: only the number of replicas changes


class Kind(StrEnum):
    CONTAINER = "container"
    IMAGE = "image"
    NETWORK = "network"
    VOLUME = "volume"
    SERVICE = "service"  # target swarm


class Reason(StrEnum):
    """Why a change is in the plan, as a category; `Change.reason` holds the words."""

    MISSING = "missing"  # does not exist (or not present locally)
    CHANGED = "changed"  # its definition changed
    PENDING_IMAGE = "pending-image"  # conditional: replaced/remade only if an image ID changes
    NOT_RUNNING = "not-running"  # should be running
    SHOULD_STOP = "should-stop"
    RESTORE = "restore"  # an interrupted replacement is finished or undone
    UP_TO_DATE = "up-to-date"
    COMPLETED = "completed"  # a one-shot container that exited 0
    REFUSED = "refused"  # changed, but applying it would lose data: kept as it is
    EXTERNAL = "external"  # not the project's: used as it is
    POLICY = "policy"  # pull policy `always`
    UNUSED = "unused"  # no longer in the spec, or no longer used by it
    SCALED_DOWN = "scaled-down"
    LEFTOVER = "leftover"  # a duplicate or a leftover of an interrupted replacement
    DESTROY = "destroy"
    HELD = "held"  # held back by the caller (watch's crash-loop policy)
    ADOPT = "adopt"  # a container Compose created, taken over (or held without --adopt-compose)
    UNKNOWN = "unknown"  # cannot be decided (unreadable build context, missing base image)


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
    Action.UPDATE: "~",
    Action.SCALE: "~",
}


def action_name(action: Action, kind: str) -> str:
    """The name shown and serialised: the verb, with the kind for objects other than
    containers (`remove-image`, `create-network`, `replace-network`, `create-volume`)."""
    if kind != Kind.CONTAINER and action in (Action.CREATE, Action.REPLACE, Action.REMOVE):
        return f"{action}-{kind}"
    if kind == Kind.SERVICE and action in (Action.UPDATE, Action.SCALE):
        return f"{action}-{kind}"
    return str(action)


class Target(Struct, frozen=True, order=True):
    """What a change acts on. `address` is stable and unique within a plan."""

    kind: str  # a Kind
    key: str  # the spec key (or label value for objects no longer in the spec)
    replica: int | None = None
    name: str = ""  # engine name (container name, image reference, network/volume name)

    @property
    def address(self) -> str:
        base = f"{self.kind}.{self.key}"
        return f"{base}[{self.replica}]" if self.replica is not None else base

    @property
    def group(self) -> str:
        """The dependency group: `container.web` for every replica of web."""
        return f"{self.kind}.{self.key}"


# --- typed intents: what a handler needs beyond before/after ---------------------------------


class ContainerIntent(Struct, frozen=True):
    """What the container handler (execute/containers.py) needs beyond before/after."""

    start: bool = True  # state running (False: created or kept stopped)
    hooks: tuple[tuple[str, ...], ...] = ()  # exec hooks, run after start
    healthcheck: bool = False  # a replacement waits for health before the old one goes
    current_hash: str | None = None  # the existing container's config hash
    restore: str | None = None  # the aside name of an interrupted replacement's old container
    first_start: bool = False  # created but never started: its hooks are still due
    adopt_from: str | None = None  # a Compose container's name: replaced, renamed back on failure
    remove_volumes: bool = False  # a removal takes the anonymous volumes along (destroy --volumes)


class ImageIntent(Struct, frozen=True):
    """A build or commit that depends on a pending base: remade only if the base changed."""

    current_hash: str | None = None
    current_bases: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False  # `build --no-cache`: build without the engine's layer cache


class ImageRemovalIntent(Struct, frozen=True):
    """What removing an image needs (plan/image_removals.py -> execute/images.py): which
    image, and whether only to untag it."""

    image_id: str
    reference: str | None = None  # the tag it was made under (io.reconciler.reference)
    untag: str | None = None  # only untag this reference (a pulled image), never force
    superseded: bool = False  # replaced by a new build or commit in this plan


class NetworkIntent(Struct, frozen=True):
    """A network replacement's intent (plan/networks.py): the ID of the network it recreates."""

    id: str  # the existing network's ID


class ServiceIntent(Struct, frozen=True):
    """target swarm: what the service handler needs beyond before/after."""

    service_id: str | None = None  # the existing service
    replicas: int = 1  # desired replicas (left out of the config hash)
    current_hash: str | None = None  # the existing service's config hash
    image: str = ""  # the reference to pin to a digest (pushed first when the project made it)
    push: bool = False  # built or committed by the project: pushed to the registry first


Intent = ContainerIntent | ImageIntent | ImageRemovalIntent | NetworkIntent | ServiceIntent
IntentT = TypeVar(
    "IntentT", ContainerIntent, ImageIntent, ImageRemovalIntent, NetworkIntent, ServiceIntent
)


class FieldDiff(Struct, frozen=True):
    """One changed field of a change (plan/diff.py): rendered by ui/render.py, and in the JSON."""

    path: str  # e.g. env.FOO, ports[0], image_id
    before: Any
    after: Any

    def render(self) -> str:
        return f"{self.path}: {_short(self.before)} -> {_short(self.after)}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


class Change(Struct, frozen=True):
    """One action on one target, with why and before/after: made by plan/, run by execute/."""

    action: Action
    target: Target
    reason: str
    before: Mapping[str, Any] | None = None  # observed config (None when nothing exists)
    after: Mapping[str, Any] | None = None  # desired config (None for remove/stop)
    diffs: tuple[FieldDiff, ...] = ()
    depends_on: tuple[str, ...] = ()  # groups (`container.web`) that must finish first
    wait_for: tuple[tuple[str, str], ...] = ()  # (container key, condition) to wait on
    warnings: tuple[str, ...] = ()
    # For changes whose image or base has a pending pull/build/commit: the executor recomputes
    # the hash once the image exists and skips the change when the image ID did not change.
    conditional: bool = False
    container_id: str | None = None  # the existing container this change acts on
    intent: Intent | None = None
    cause: Reason = Reason.CHANGED

    @property
    def address(self) -> str:
        return self.target.address

    @property
    def name(self) -> str:
        """The action as shown and serialised (`remove-image`, `create`, ...)."""
        return action_name(self.action, self.target.kind)

    def intent_as(self, kind: type[IntentT]) -> IntentT:
        """The intent, typed; a default one when the change carries none of that type."""
        return self.intent if isinstance(self.intent, kind) else kind()  # type: ignore[call-arg]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.name,
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


class Plan(Struct, frozen=True):
    """Every change of one pass, in execution order, with the problems that forbid applying it."""

    project: str
    changes: tuple[Change, ...] = ()  # every target, UNCHANGED included, in execution order
    warnings: tuple[str, ...] = ()
    errors: tuple[Problem, ...] = ()  # plan-time problems (nothing may be applied)
    kept: tuple[str, ...] = ()  # destroy: what it keeps and how to remove it (after the summary)

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.UNCHANGED)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.actionable:
            out[c.name] = out.get(c.name, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "changes": [c.to_json() for c in self.actionable],
            "unchanged": [c.address for c in self.changes if c.action is Action.UNCHANGED],
            "counts": self.counts(),
            "warnings": list(self.warnings),
            "errors": [p.to_json() for p in self.errors],
            **({"kept": list(self.kept)} if self.kept else {}),
        }


def _short(value: Any, limit: int = 60) -> str:
    # JSON, so a diff reads `env.FOO: "a" -> "b"` and `ports[0]: {"container_port": 80, ...}`
    if isinstance(value, str) and value.startswith("sha256:"):
        value = short_id(value)
    text = "(none)" if value is None else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
