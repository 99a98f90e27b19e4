"""Containers that `docker compose up` created for a project of the spec's name: taken over
with `apply --adopt-compose`, named and left alone without it. Pure; called by
plan/containers.py (one decision per replica) and plan/planner.py (the warnings).

A Compose container matches the spec's container whose key is its service and whose replica
is its container number (labels `com.docker.compose.service` and `.container-number`), whatever
its name (`<project>_<service>_1` for docker-compose 1.x, `<project>-<service>-1` for v2).

- With the flag: a replacement (`Reason.ADOPT`): the Compose container is stopped and renamed
  aside, the new one is created and must run (and be healthy, if it has a healthcheck), then
  the old one is removed; a failure renames it back and starts it again. Named volumes are
  engine volumes `<project>_<name>`, the names Compose gives them, so the data stays.
- Without it: unchanged, and a warning says how to take the container over. Its host ports do
  not count as a clash (engine observe leaves them out), since it is this project's to take.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace

from reconciler.model.labels import is_aside
from reconciler.model.plan import Action, Change, ContainerIntent, Reason, Target
from reconciler.model.spec import Spec
from reconciler.model.state import ObservedContainer, State

FLAG = "--adopt-compose"


def compose_replicas(state: State) -> dict[tuple[str, int], ObservedContainer]:
    """(service, container number) -> the Compose container (the newest when several)."""
    out: dict[tuple[str, int], ObservedContainer] = {}
    for oc in sorted(state.compose_containers, key=lambda oc: oc.created):
        out[(oc.key, oc.replica)] = oc
    return out


def _who(oc: ObservedContainer) -> str:
    return f"{oc.name} (Compose project {oc.project}, service {oc.key})"


def decide(
    oc: ObservedContainer,
    target: Target,
    common: Mapping[str, Any],
    intent: ContainerIntent,
    adopt: bool,
) -> Change:
    """The change for a replica that a Compose container holds. `common`: after, depends_on
    and wait_for, as for any container change."""
    if not adopt:
        reason = f"held by {_who(oc)}: not touched; take it over with `apply {FLAG}`"
        return Change(
            Action.UNCHANGED,
            target,
            reason,
            container_id=oc.id,
            cause=Reason.ADOPT,
            **common,
        )
    # an aside name: a takeover was interrupted after the rename; go on from there
    aside = is_aside(oc.name)
    intent = replace(
        intent,
        adopt_from=target.name if aside else oc.name,
        restore=oc.name if aside else None,
    )
    return Change(
        Action.REPLACE,
        target,
        f"adopt {_who(oc)}: replaced by this spec's container; named volumes kept",
        container_id=oc.id,
        intent=intent,
        cause=Reason.ADOPT,
        **common,
    )


def warnings(spec: Spec, state: State, adopt: bool) -> list[str]:
    """What the plan says about the Compose containers: how to take the held ones over, and
    those that no spec container matches (left alone either way)."""
    out: list[str] = []
    wanted = {
        (key, replica)
        for key, c in spec.containers.items()
        if c.state != "absent"
        for replica in range(1, c.replicas + 1)
    }
    held = []
    for oc in state.compose_containers:
        if (oc.key, oc.replica) not in wanted:
            out.append(
                f"{_who(oc)}: no container of this spec matches it (key {oc.key}, replica "
                f"{oc.replica}); left as it is"
            )
        elif not adopt:
            held.append(oc.name)
    if held:
        out.append(
            f"Compose created {', '.join(sorted(held))} for project {spec.project}; they are "
            f"not touched. `reconciler apply {FLAG}` replaces them one by one with this spec's "
            "containers (each old one kept until its new one runs), keeping their named volumes"
        )
    return out
