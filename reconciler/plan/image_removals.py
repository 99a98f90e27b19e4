"""Planning of image removals: images the project made that left the spec or that a new
build supersedes, and `destroy --images`. Pure; called by planner.py.

An image is removed after every container change that used it; an image another container
uses is kept with a warning; an image made from another (a child) goes first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.model.ids import short_id
from reconciler.model.labels import LABEL_KIND, LABEL_NAME, LABEL_PROJECT, LABEL_REFERENCE
from reconciler.model.plan import Action, Change, ImageRemovalIntent, Reason, Target
from reconciler.model.spec import Spec
from reconciler.model.state import ObservedImage, State, normalise_reference
from reconciler.plan.image_reasons import NAMES_SHOWN
from reconciler.plan.images import base_keys


def is_owned_image(image: ObservedImage, project: str) -> bool:
    """Made by this project and tagged by nobody else: an image built FROM one of ours inherits
    our labels, but not our reference (unless it is untagged: such leftovers count as ours)."""

    labels = image.labels
    if labels.get(LABEL_PROJECT) != project or labels.get(LABEL_KIND) != "image":
        return False
    reference = labels.get(LABEL_REFERENCE)
    tags = {normalise_reference(t) for t in image.tags}
    if not tags:
        return True
    return reference is not None and tags == {normalise_reference(reference)}


def _display(image: ObservedImage) -> str:
    return image.tags[0] if image.tags else short_id(image.id)


def _removal_target(key: str, image: ObservedImage) -> Target:
    short = short_id(image.id)
    return Target("image", f"{key or 'unnamed'}@{short}", None, _display(image))


def plan_image_removals(
    spec: Spec,
    state: State,
    image_changes: Iterable[Change],
    container_changes: Iterable[Change],
    warnings: list[str],
    prune: bool = True,
    sources: Mapping[str, Any] | None = None,
) -> list[Change]:
    """REMOVE_IMAGE for the project's images that left the spec (or are superseded by a build
    or commit of this plan), each after the container changes that stop using it."""
    made = {
        c.target.key: c
        for c in image_changes
        if c.action in (Action.BUILD, Action.COMMIT) and c.target.kind == "image"
    }
    going = _containers_going(container_changes)
    candidates: list[tuple[ObservedImage, str, str, bool]] = []
    for image in state.project_images:
        if not is_owned_image(image, spec.project):
            continue
        key = image.labels.get(LABEL_NAME, "")
        desired = spec.images.get(key)
        tags = {normalise_reference(t) for t in image.tags}
        current = (
            desired is not None
            and desired.kind in ("build", "commit")
            and normalise_reference(desired.reference) in tags
        )
        if current:
            if key not in made:
                continue
            reason, superseded = f"superseded by the new {made[key].action}", True
        elif desired is None:
            if not prune:
                warnings.append(
                    f"image {_display(image)} (images.{key}) is no longer in the spec; "
                    "kept (--no-prune)"
                )
                continue
            reason, superseded = "no longer in the spec", False
        elif not image.tags:
            reason, superseded = "untagged leftover of an earlier build", False
        else:
            reason = f"images.{key} now makes {desired.reference}"
            superseded = False
        candidates.append((image, key, reason, superseded))

    base_of = _base_users(spec, sources)
    by_key: dict[str, list[str]] = {}
    removals: list[Change] = []
    for image, key, reason, superseded in candidates:
        deps, kept_by = _image_users(image, state, going)
        if kept_by:
            warnings.append(
                f"image {_display(image)} (images.{key}) is kept: still used by "
                f"{names_text(kept_by)}"
            )
            continue
        if superseded:
            deps.add(Target("image", key).address)
        target = _removal_target(key, image)
        by_key.setdefault(key, []).append(target.address)
        removals.append(
            Change(
                Action.REMOVE,
                target,
                reason,
                before={"id": image.id, "tags": list(image.tags)},
                depends_on=tuple(sorted(deps)),
                intent=ImageRemovalIntent(
                    image_id=image.id,
                    reference=image.labels.get(LABEL_REFERENCE),
                    superseded=superseded,
                ),
                cause=Reason.CHANGED if superseded else Reason.UNUSED,
            )
        )
    # An image built from another goes first (the older one is its parent): by the spec's
    # recipes, and for images whose recipe left the spec, newest first, one after the other.
    created = {image.id: image.created for image, *_ in candidates}
    out = []
    for change in removals:
        key = change.target.key.split("@", 1)[0]
        children = [a for child in base_of.get(key, ()) for a in by_key.get(child, ())]
        if children:
            change = _with_deps(change, children)
        out.append(change)
    gone = sorted(
        (c for c in out if not c.intent_as(ImageRemovalIntent).superseded),
        key=lambda c: (-created.get(c.intent_as(ImageRemovalIntent).image_id, 0), c.address),
    )
    chained: dict[str, Change] = {}
    for newer, older in itertools.pairwise(gone):
        chained[older.address] = _with_deps(chained.get(older.address, older), [newer.address])
    return [chained.get(c.address, c) for c in out]


def names_text(names: list[str], shown: int = NAMES_SHOWN) -> str:
    """ "a, b, c and 4 more" """
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _with_deps(change: Change, more: Iterable[str]) -> Change:
    from msgspec.structs import replace

    deps = tuple(sorted(set(change.depends_on) | set(more)))
    return replace(change, depends_on=deps)


def _containers_going(container_changes: Iterable[Change]) -> dict[str, str]:
    """Container id -> the address of the change that removes or replaces it."""
    return {
        c.container_id: f"container.{c.target.key}"
        for c in container_changes
        if c.container_id and c.action in (Action.REMOVE, Action.REPLACE)
    }


def _image_users(
    image: ObservedImage, state: State, going: Mapping[str, str]
) -> tuple[set[str], list[str]]:
    """(addresses to wait for, containers that keep using the image)."""
    own = {oc.name: oc for oc in state.containers}
    deps: set[str] = set()
    kept: list[str] = []
    for name in state.image_users.get(image.id, ()):
        oc = own.get(name)
        if oc is None:
            kept.append(f"container {name} (not owned by this project)")
        elif oc.id in going:
            deps.add(going[oc.id])
        else:
            kept.append(f"container {name}")
    return deps, kept


def _base_users(spec: Spec, sources) -> dict[str, list[str]]:
    """images key -> keys of the images made from it."""
    out: dict[str, list[str]] = {}
    for key, image in spec.images.items():
        for base in base_keys(spec, image, sources):
            out.setdefault(base, []).append(key)
    return out


# --- destroy --images ---------------------------------------------------------------------------


def plan_destroy_images(
    project: str,
    state: State,
    container_changes: Iterable[Change],
    pulled: Iterable[str] = (),
) -> tuple[list[Change], list[str]]:
    """`destroy --images`: the project's own images after every container removal, then the
    references it pulled (untagged) when no container outside the project uses them."""
    container_changes = list(container_changes)
    going = _containers_going(container_changes)
    groups = sorted({f"container.{c.target.key}" for c in container_changes})
    changes: list[Change] = []
    warnings: list[str] = []
    # Newest first, one after the other: an image made from another (a child) is newer, and
    # the engine refuses to remove an image that still has children.
    newest_first = sorted(state.project_images, key=lambda i: (-i.created, i.id))
    previous: tuple[str, ...] = ()
    for image in newest_first:
        if not is_owned_image(image, project):
            continue
        key = image.labels.get(LABEL_NAME, "")
        _, kept_by = _image_users(image, state, going)
        if kept_by:
            warnings.append(f"image {_display(image)} is kept: still used by {names_text(kept_by)}")
            continue
        change = Change(
            Action.REMOVE,
            _removal_target(key, image),
            "destroy",
            before={"id": image.id, "tags": list(image.tags)},
            depends_on=tuple(groups) + previous,
            intent=ImageRemovalIntent(image.id, image.labels.get(LABEL_REFERENCE)),
            cause=Reason.DESTROY,
        )
        changes.append(change)
        previous = (change.address,)
    made = [c.address for c in changes]
    own_names = {oc.name for oc in state.containers}
    for ref in sorted(set(pulled)):
        image_id = state.image_id(ref)
        if image_id is None:
            continue
        others = [n for n in state.image_users.get(image_id, ()) if n not in own_names]
        if others:
            warnings.append(f"image {ref} is kept: still used by container(s) {names_text(others)}")
            continue
        changes.append(
            Change(
                Action.REMOVE,
                Target("image", ref, None, ref),
                "destroy (pulled by the project)",
                before={"id": image_id, "tags": [ref]},
                depends_on=tuple(groups) + tuple(made),
                intent=ImageRemovalIntent(image_id, untag=ref),
                cause=Reason.DESTROY,
            )
        )
    return changes, warnings


def pulled_references(spec: Spec) -> list[str]:
    """The references the spec declares with `pull:` (what `destroy --images` may untag).
    References containers or commits name directly are used, not owned: never removed."""
    return sorted({i.reference for i in spec.images.values() if i.kind == "pull"})
