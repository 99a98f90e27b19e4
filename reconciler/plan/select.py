"""A subset of a plan: `select(plan, names)` keeps the changes of the named containers and,
transitively, every change they depend on (their images, networks, volumes and the containers
in their `depends_on`). Pure; used by `apply SPEC NAME...` (commands/apply.py passes it to
reconcile.apply_pass as its `adjust`) and by `pull`/`build SPEC NAME...`, which keep only the
image changes (`only_images`) and make the images asked for even when present (`force`).

A subset is a filter, not a second planner: the full plan is made as always, so a subset
never does anything the full plan would not do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from msgspec.structs import replace

from reconciler.errors import Problem
from reconciler.model.plan import Action, Change, ImageIntent, Kind, Plan, Reason
from reconciler.model.spec import Spec


def container_keys(plan: Plan) -> set[str]:
    """The containers keys a plan knows about (desired or observed)."""
    return {c.target.key for c in plan.changes if c.target.kind == Kind.CONTAINER}


def unknown_names(plan: Plan, names: Iterable[str]) -> list[str]:
    """The names that are neither a containers key nor a container name of the plan."""
    known = container_keys(plan)
    known |= {c.target.name for c in plan.changes if c.target.kind == Kind.CONTAINER}
    return [n for n in names if n not in known]


def _named(change: Change, names: set[str]) -> bool:
    target = change.target
    return target.kind == Kind.CONTAINER and (target.key in names or target.name in names)


def spec_needs(spec: Spec) -> dict[str, set[str]]:
    """group -> the groups it needs according to the spec, whether or not the plan changes
    them (a change's `depends_on` names only what is pending): a container needs the
    containers of its depends_on and its image; a commit needs its base image. Images are
    grouped by what the spec writes (`image.<key>`, or `image.<reference>` for a direct one)."""
    needs: dict[str, set[str]] = {}
    for key, container in spec.containers.items():
        group = needs.setdefault(f"container.{key}", set())
        group |= {f"container.{d.target}" for d in container.depends_on}
        group.add(f"image.{container.image}")
    for key, image in spec.images.items():
        if image.commit is not None:
            needs.setdefault(f"image.{key}", set()).add(f"image.{image.commit.base}")
    return needs


def select(plan: Plan, names: Iterable[str], spec: Spec | None = None) -> Plan:
    """The plan restricted to the named containers (keys or container names) and what they
    need (the changes' depends_on and, with `spec`, `spec_needs`: so an up-to-date image of
    a named container is kept too); order kept. An unknown name is a plan error (nothing is
    applied)."""
    wanted = set(names)
    missing = unknown_names(plan, sorted(wanted))
    if missing:
        known = ", ".join(sorted(container_keys(plan))) or "none"
        problems = tuple(
            Problem(f"no container {name!r} in the spec", hint=f"containers: {known}")
            for name in missing
        )
        return replace(plan, changes=(), errors=(*plan.errors, *problems))
    by_group: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_group.setdefault(change.target.group, []).append(change)
    needs = spec_needs(spec) if spec is not None else {}
    keep: set[str] = set()  # addresses
    todo = [c for c in plan.changes if _named(c, wanted)]
    while todo:
        change = todo.pop()
        if change.address in keep:
            continue
        keep.add(change.address)
        for group in (*change.depends_on, *sorted(needs.get(change.target.group, ()))):
            todo.extend(by_group.get(group, ()))
    changes = tuple(c for c in plan.changes if c.address in keep)
    return replace(plan, changes=changes)


def only_images(plan: Plan) -> Plan:
    """The image changes of a plan (pull, build, commit; removals dropped): `pull` and
    `build` run these and leave the containers alone."""
    changes = tuple(
        c for c in plan.changes if c.target.kind == Kind.IMAGE and c.action is not Action.REMOVE
    )
    return replace(plan, changes=changes)


def forced_actions(spec: Spec, plan: Plan, verb: Action) -> dict[str, Action]:
    """images key -> `verb` for every image of the plan that `pull` (verb PULL: pulled images
    and direct references, but not `policy: never`) or `build` (verb BUILD) makes."""
    out: dict[str, Action] = {}
    for change in plan.changes:
        if change.target.kind != Kind.IMAGE or change.action is Action.REMOVE:
            continue
        image = spec.images.get(change.target.key)
        kind = image.kind if image is not None else "pull"  # a direct reference is pulled
        if verb is Action.PULL and kind == "pull" and (image is None or image.policy != "never"):
            out[change.target.key] = Action.PULL
        elif verb is Action.BUILD and kind == "build":
            out[change.target.key] = Action.BUILD
    return out


def force(plan: Plan, actions: Mapping[str, Action], no_cache: bool = False) -> Plan:
    """The plan with the given images (images key -> PULL or BUILD) made whatever the plan
    decided: `pull` pulls present images again, `build --no-cache` rebuilds without the
    cache. Containers are not touched: the next apply replaces those whose image changed."""
    changes: list[Change] = []
    for change in plan.changes:
        verb = actions.get(change.target.key) if change.target.kind == Kind.IMAGE else None
        if verb is not None and change.action is not Action.REMOVE:
            intent = change.intent_as(ImageIntent)
            if verb is Action.BUILD:
                intent = replace(intent, no_cache=no_cache)
            change = replace(
                change,
                action=verb,
                reason="requested" if change.action is Action.UNCHANGED else change.reason,
                conditional=False,
                intent=intent if verb is Action.BUILD else change.intent,
                cause=Reason.CHANGED if change.action is Action.UNCHANGED else change.cause,
            )
        changes.append(change)
    return replace(plan, changes=tuple(changes))


def keep_actions(plan: Plan, actions: Iterable[Action]) -> Plan:
    """Only the changes whose action is one of `actions` (UNCHANGED kept for display)."""
    wanted = {*actions, Action.UNCHANGED}
    return replace(plan, changes=tuple(c for c in plan.changes if c.action in wanted))
