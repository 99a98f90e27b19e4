"""Containers that must follow another one's replacement (issue 13, Compose's semantics):
- `network_mode: service:KEY` shares KEY's network namespace, which the engine fixed by
  container id at create: when KEY is created or replaced, the dependent is replaced too (else
  it keeps the old, orphaned namespace);
- `depends_on: {KEY: {restart: true}}`: when KEY is created or replaced, the dependent is
  replaced (Compose restarts it; a replacement is a restart with the same config).

`follow_replacements` is called by plan/containers.plan_containers on its changes (dependency
order, so a chain follows through). Pure: the changes in, the changes out. A conditional
replacement (a pending image) does not count: whether it happens is known only when it runs.
"""

from __future__ import annotations

from msgspec.structs import replace

from reconciler.model.plan import Action, Change, Reason
from reconciler.model.spec import ContainerSpec, Spec

_FOLLOWING = (Action.UNCHANGED, Action.START)  # an existing container that would stay as it is


def follow_replacements(spec: Spec, changes: list[Change]) -> list[Change]:
    renewed: set[str] = set()  # container keys created or replaced by this plan
    out = []
    for change in changes:
        key = change.target.key
        if change.target.kind != "container":
            out.append(change)
            continue
        container = spec.containers.get(key)
        triggers = _triggers(container, renewed) if container else []
        if triggers and change.action in _FOLLOWING and change.container_id:
            change = replace(
                change,
                action=Action.REPLACE,
                reason=f"follows {', '.join(triggers)} (replaced)",
                cause=Reason.CHANGED,
            )
        if change.action in (Action.CREATE, Action.REPLACE) and not change.conditional:
            renewed.add(key)
        out.append(change)
    return out


def _triggers(container: ContainerSpec, renewed: set[str]) -> list[str]:
    found = {d.target for d in container.depends_on if d.restart and d.target in renewed}
    mode = container.network_mode or ""
    if mode.startswith("service:") and mode.partition(":")[2] in renewed:
        found.add(mode.partition(":")[2])
    return sorted(found)
