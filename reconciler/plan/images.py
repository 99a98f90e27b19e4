"""Planning of images: pulls by policy, builds and commits by source hash, and removals. Pure.

Called by planner.plan() (and planner.plan_destroy for `destroy --images`). The I/O a build
decision needs (reading the context and the Dockerfile) happens before, in
buildcontext.build_sources(); its result comes in as `sources` (image key -> BuildSource).

- pull: `if-missing` pulls when absent; `always` pulls every pass (containers using it are
  replaced only if the pulled ID differs: conditional replacement); `never` with the image
  absent is a located plan error. References that containers or commits name directly (not
  images keys) are pulled when missing.
- build: rebuilt when absent, when the source hash label differs (the reason names the
  changed files from the manifest label), or when an image it builds FROM changed ID. When
  a base is itself pending in this plan the build is conditional: the executor rebuilds only
  if the base's new ID differs from the one recorded.
- commit: the source hash covers the base image ID, the steps and the changes; a pending
  base makes it conditional in the same way.
- removal: images the project made (labelled with it, tagged only with the reference they
  were made under, or untagged) that left the spec, or that a new build supersedes, are
  removed after every container change that used them; an image another container uses is
  kept with a warning.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.errors import Problem
from reconciler.model.labels import (
    LABEL_BASES,
    LABEL_KIND,
    LABEL_MANIFEST,
    LABEL_NAME,
    LABEL_REFERENCE,
    LABEL_SOURCE_HASH,
    canonical_json,
    decode_bases,
    decode_manifest,
)
from reconciler.model.plan import Action, Change, Target
from reconciler.model.spec import CommitSpec, ImageSpec, Spec
from reconciler.model.state import ObservedImage, State, normalise_reference

NAMES_SHOWN = 3
MAKE_ACTIONS = (Action.PULL, Action.BUILD, Action.COMMIT)


# --- labels --------------------------------------------------------------------------------------


def commit_inputs(commit: CommitSpec) -> dict[str, str]:
    c = commit.changes
    changes = {
        "cmd": list(c.cmd) if c.cmd is not None else None,
        "entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
        "env": dict(sorted(c.env.items())),
        "workdir": c.workdir,
        "expose": sorted(c.expose),
        "user": c.user,
        "labels": dict(sorted(c.labels.items())),
    }
    return {"run": _short(list(commit.run)), "changes": _short(changes)}


def commit_source_hash(base_id: str, commit: CommitSpec) -> str:
    """The source hash of a commit recipe: base image ID, steps, changes."""
    return hashlib.sha256(
        canonical_json({"base": base_id, **commit_inputs(commit)}).encode()
    ).hexdigest()


def _short(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:10]


# --- making images -------------------------------------------------------------------------------


def plan_images(
    spec: Spec,
    state: State,
    errors: list[Problem],
    sources: Mapping[str, Any] | None = None,
) -> list[Change]:
    """One change per image: pulls first (spec order, then direct references), then builds and
    commits in dependency order (bases first)."""
    changes: list[Change] = []
    for key, image in spec.images.items():
        if image.kind == "pull":
            changes.append(plan_pull(key, image.reference, image.policy, state, image, errors))
    for ref in direct_references(spec):
        changes.append(plan_pull(ref, ref, "if-missing", state, None, errors))
    pending = {c.target.key: c.address for c in changes if c.action is not Action.UNCHANGED}
    made = [k for k, i in spec.images.items() if i.kind in ("build", "commit")]
    for key in _made_order(spec, made, sources):
        image = spec.images[key]
        if image.kind == "build":
            change = plan_build(spec, image, state, pending, errors, sources)
        else:
            change = plan_commit(spec, image, state, pending, errors)
        if change.action is not Action.UNCHANGED:
            pending[key] = change.address
        changes.append(change)
    return changes


def direct_references(spec: Spec) -> list[str]:
    """References used directly (not through an images key) by containers and commits."""
    refs = {c.image for c in spec.containers.values() if c.image not in spec.images and c.replicas}
    refs |= {
        i.commit.base
        for i in spec.images.values()
        if i.commit is not None and i.commit.base not in spec.images
    }
    return sorted(refs)


def plan_pull(key, reference, policy, state: State, image, errors: list[Problem]) -> Change:
    target = Target("image", key, None, reference)
    present = state.image_id(reference)
    after = {"reference": reference, "kind": "pull", "policy": policy}
    before = {"reference": reference, "id": present} if present else None
    if policy == "always":
        return Change(Action.PULL, target, "policy always", before=before, after=after)
    if present:
        return Change(Action.UNCHANGED, target, "present", before=before, after=after)
    if policy == "never":
        errors.append(
            Problem(
                f"image {reference} is not present locally and its policy is `never`; "
                "load or pull it first, or set `policy: if-missing`",
                image.location if image else None,
                f"images.{key}.policy" if image else "",
            )
        )
        return Change(Action.UNCHANGED, target, "missing (policy never)", after=after)
    return Change(Action.PULL, target, "missing locally", after=after)


def _reference_keys(spec: Spec) -> dict[str, str]:
    """Normalised reference -> images key, for every image of the spec."""
    return {normalise_reference(i.reference): k for k, i in spec.images.items()}


def base_keys(spec: Spec, image: ImageSpec, sources: Mapping[str, Any] | None) -> list[str]:
    """The images keys (of this spec) an image is made from: a commit's `from`, a build's
    FROM / COPY --from images that another entry provides by its reference."""
    by_ref = _reference_keys(spec)
    out: list[str] = []
    if image.commit is not None:
        base = image.commit.base
        key = base if base in spec.images else by_ref.get(normalise_reference(base))
        if key and key != image.key:
            out.append(key)
    if image.build is not None and sources is not None:
        source = sources.get(image.key)
        for ref in getattr(source, "bases", ()) or ():
            key = by_ref.get(normalise_reference(ref))
            if key and key != image.key and key not in out:
                out.append(key)
    return out


def _made_order(spec: Spec, made: list[str], sources) -> list[str]:
    """Built and committed images, bases first; ties in spec order; cycles broken."""
    order: list[str] = []
    done: set[str] = set()
    made_set = set(made)

    def visit(key: str, stack: tuple[str, ...]) -> None:
        if key in done or key in stack:
            return
        for dep in base_keys(spec, spec.images[key], sources):
            if dep in made_set:
                visit(dep, (*stack, key))
        done.add(key)
        order.append(key)

    for key in made:
        visit(key, ())
    return order


def _present(state: State, reference: str) -> ObservedImage | None:
    return state.images.get(normalise_reference(reference))


def _base_deps(spec, image, sources) -> tuple[str, ...]:
    return tuple(sorted(Target("image", k).address for k in base_keys(spec, image, sources)))


def plan_build(
    spec: Spec,
    image: ImageSpec,
    state: State,
    pending: Mapping[str, str],
    errors: list[Problem],
    sources: Mapping[str, Any] | None,
) -> Change:
    key, ref = image.key, image.reference
    assert image.build is not None
    target = Target("image", key, None, ref)
    source = sources.get(key) if sources is not None else None
    deps = _base_deps(spec, image, sources)
    after = {
        "reference": ref,
        "kind": "build",
        "context": image.build.context,
        "dockerfile": image.build.dockerfile,
        "source_hash": getattr(source, "hash", None) or None,
    }
    present = _present(state, ref)
    before = _before(present, ref)
    if source is not None and source.error:
        errors.append(Problem(source.error, image.location, f"images.{key}.build"))
        return Change(Action.UNCHANGED, target, "build context unreadable", before, after)
    by_ref = _reference_keys(spec)
    bases = tuple(getattr(source, "bases", ()) or ())
    pending_bases = [b for b in bases if (k := by_ref.get(normalise_reference(b))) and k in pending]

    def build(reason: str, **kw: Any) -> Change:
        _check_bases(spec, image, bases, state, by_ref, errors)
        return Change(Action.BUILD, target, reason, before, after, depends_on=deps, **kw)

    if present is None:
        return build("missing locally")
    if source is None:
        return Change(Action.UNCHANGED, target, "present (source not checked)", before, after)
    labels = present.labels
    recorded = labels.get(LABEL_SOURCE_HASH)
    if recorded is None:
        return build("not built by this project (no source hash)")
    if recorded != source.hash:
        return build(describe_source_change(labels, source))
    recorded_bases = decode_bases(labels.get(LABEL_BASES))
    changed = [
        b
        for b in bases
        if b not in pending_bases
        and b in recorded_bases
        and state.image_id(b) not in (None, recorded_bases[b])
    ]
    if changed:
        return build(f"base image changed: {', '.join(changed)}")
    if pending_bases:
        reason = (
            f"base image {', '.join(pending_bases)} is updated first; "
            "rebuilt only if its ID changes"
        )
        extra = {"current_hash": recorded, "current_bases": recorded_bases}
        return build(reason, conditional=True, extra=extra)
    return Change(Action.UNCHANGED, target, "up to date", before, after)


def _check_bases(spec, image, bases, state, by_ref, errors) -> None:
    """A build never pulls: every FROM image must be present or made by the spec."""
    for ref in bases:
        if by_ref.get(normalise_reference(ref)) or state.image_id(ref):
            continue
        errors.append(
            Problem(
                f"the Dockerfile builds FROM {ref}, which is not present locally and not an "
                "image of this spec; builds never pull: add it under `images:` "
                f"(e.g. `base: {{pull: {ref}}}`) or load it first",
                image.location,
                f"images.{image.key}.build",
            )
        )


def _before(present: ObservedImage | None, ref: str) -> dict[str, Any] | None:
    if present is None:
        return None
    return {
        "reference": ref,
        "id": present.id,
        "source_hash": present.labels.get(LABEL_SOURCE_HASH),
    }


def describe_source_change(labels: Mapping[str, str], source: Any) -> str:
    """Why the source hash differs, from the manifest label: the changed files first."""
    old = decode_manifest(labels.get(LABEL_MANIFEST))
    if old is None:
        return "source changed"
    parts: list[str] = []
    old_files = old.get("files")
    if isinstance(old_files, dict):
        new_files = dict(source.manifest)
        changed = sorted(
            p for p in set(old_files) | set(new_files) if old_files.get(p) != new_files.get(p)
        )
        if changed:
            shown = ", ".join(changed[:NAMES_SHOWN])
            more = f" and {len(changed) - NAMES_SHOWN} more" if len(changed) > NAMES_SHOWN else ""
            parts.append(f"source changed: {shown}{more}")
    old_inputs = old.get("inputs") or {}
    names = {
        "dockerfile": "Dockerfile changed",
        "dockerfile_path": "dockerfile changed",
        "args": "build args changed",
        "target": "build target changed",
        "labels": "build labels changed",
    }
    for field, text in names.items():
        if old_inputs.get(field) != source.inputs.get(field) and not (
            field == "dockerfile" and any(p.startswith("source changed") for p in parts)
        ):
            parts.append(text)
    return "; ".join(parts) or "source changed"


def plan_commit(
    spec: Spec,
    image: ImageSpec,
    state: State,
    pending: Mapping[str, str],
    errors: list[Problem],
) -> Change:
    key, ref = image.key, image.reference
    assert image.commit is not None
    commit = image.commit
    target = Target("image", key, None, ref)
    base_ref = spec.image_reference(commit.base)
    base_key = commit.base if commit.base in spec.images else base_ref
    deps = (Target("image", base_key).address,)
    present = _present(state, ref)
    before = _before(present, ref)
    base_id = None if base_key in pending else state.image_id(base_ref)
    source = commit_source_hash(base_id, commit) if base_id else None
    after = {
        "reference": ref,
        "kind": "commit",
        "from": base_ref,
        "run": list(commit.run),
        "source_hash": source,
    }
    if present is None:
        return Change(Action.COMMIT, target, "missing locally", before, after, depends_on=deps)
    recorded = present.labels.get(LABEL_SOURCE_HASH)
    if base_key in pending:
        reason = f"base image {base_ref} is updated first; recommitted only if its ID changes"
        return Change(
            Action.COMMIT,
            target,
            reason,
            before,
            after,
            depends_on=deps,
            conditional=True,
            extra={"current_hash": recorded},
        )
    if source is None:  # the base is missing and not pending: a plan error says why
        return Change(Action.UNCHANGED, target, "base image missing", before, after)
    if recorded == source:
        return Change(Action.UNCHANGED, target, "up to date", before, after)
    if recorded is None:
        reason = "not committed by this project (no source hash)"
    else:
        reason = describe_commit_change(present.labels, commit, base_ref, base_id)
    return Change(Action.COMMIT, target, reason, before, after, depends_on=deps)


def describe_commit_change(labels, commit: CommitSpec, base_ref: str, base_id: str) -> str:
    old = decode_manifest(labels.get(LABEL_MANIFEST)) or {}
    old_inputs = old.get("inputs") or {}
    new_inputs = commit_inputs(commit)
    parts = []
    if old_inputs.get("run") != new_inputs["run"]:
        parts.append("recipe changed: run")
    if old_inputs.get("changes") != new_inputs["changes"]:
        parts.append("recipe changed: changes")
    old_bases = decode_bases(labels.get(LABEL_BASES))
    if old_bases and base_id not in old_bases.values():
        parts.append(f"base image changed: {base_ref}")
    return "; ".join(parts) or "recipe changed"


# --- removals ------------------------------------------------------------------------------------


def is_owned_image(image: ObservedImage, project: str) -> bool:
    """Made by this project and tagged by nobody else: an image built FROM one of ours inherits
    our labels, but not our reference (unless it is untagged: such leftovers count as ours)."""
    from reconciler.model.labels import LABEL_PROJECT

    labels = image.labels
    if labels.get(LABEL_PROJECT) != project or labels.get(LABEL_KIND) != "image":
        return False
    reference = labels.get(LABEL_REFERENCE)
    tags = {normalise_reference(t) for t in image.tags}
    if not tags:
        return True
    return reference is not None and tags == {normalise_reference(reference)}


def _display(image: ObservedImage) -> str:
    return image.tags[0] if image.tags else image.id.removeprefix("sha256:")[:12]


def _removal_target(key: str, image: ObservedImage) -> Target:
    short = image.id.removeprefix("sha256:")[:12]
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
                Action.REMOVE_IMAGE,
                target,
                reason,
                before={"id": image.id, "tags": list(image.tags)},
                depends_on=tuple(sorted(deps)),
                extra={
                    "image_id": image.id,
                    "reference": image.labels.get(LABEL_REFERENCE),
                    "superseded": superseded,
                },
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
        (c for c in out if not c.extra.get("superseded")),
        key=lambda c: (-created.get(c.extra["image_id"], 0), c.address),
    )
    chained = {}
    for newer, older in itertools.pairwise(gone):
        chained[older.address] = _with_deps(chained.get(older.address, older), [newer.address])
    return [chained.get(c.address, c) for c in out]


def names_text(names: list[str], shown: int = NAMES_SHOWN) -> str:
    """ "a, b, c and 4 more" """
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _with_deps(change: Change, more: Iterable[str]) -> Change:
    from dataclasses import replace

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
            Action.REMOVE_IMAGE,
            _removal_target(key, image),
            "destroy",
            before={"id": image.id, "tags": list(image.tags)},
            depends_on=tuple(groups) + previous,
            extra={"image_id": image.id, "reference": image.labels.get(LABEL_REFERENCE)},
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
                Action.REMOVE_IMAGE,
                Target("image", ref, None, ref),
                "destroy (pulled by the project)",
                before={"id": image_id, "tags": [ref]},
                depends_on=tuple(groups) + tuple(made),
                extra={"image_id": image_id, "untag": ref},
            )
        )
    return changes, warnings


def pulled_references(spec: Spec) -> list[str]:
    """The references the spec declares with `pull:` (what `destroy --images` may untag).
    References containers or commits name directly are used, not owned: never removed."""
    return sorted({i.reference for i in spec.images.values() if i.kind == "pull"})
