"""Planning of images: pulls by policy, builds and commits by source hash, and removals. Pure.

Called by planner.plan() (and planner.plan_destroy for `destroy --images`). The I/O a build
decision needs (reading the context and the Dockerfile) happens before, in
buildcontext.build_sources(); its result comes in as `sources` (image key -> BuildSource).

- pull: `if-missing` pulls when absent; `always` pulls every pass (containers using it are
  replaced only if the pulled ID differs: conditional replacement); `never` with the image
  absent is a located plan error. References that containers or commits name directly (not
  images keys) are pulled when missing.
- build: a FROM image of the target's stages that is neither present nor made by the spec is
  pulled on demand by the build (said in the reason). Rebuilt when absent, when the source
  hash label differs (the reason names the
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
from collections.abc import Mapping
from typing import Any

from reconciler.errors import Problem
from reconciler.model.labels import (
    LABEL_BASES,
    LABEL_MANIFEST,
    LABEL_SOURCE_HASH,
    canonical_json,
    decode_bases,
    decode_manifest,
)
from reconciler.model.plan import (
    Action,
    Change,
    ImageIntent,
    Reason,
    Target,
)
from reconciler.model.spec import CommitSpec, ImageSpec, Spec
from reconciler.model.state import ObservedImage, State, normalise_reference
from reconciler.plan import pull_always
from reconciler.plan.image_reasons import describe_source_change

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
    remote: Mapping[str, pull_always.RemoteDigest] | None = None,
) -> list[Change]:
    """One change per image: pulls first (spec order, then direct references), then builds and
    commits in dependency order (bases first). `remote`: the registry digests of the
    `policy: always` references (read before planning); without them, always pulls."""
    changes: list[Change] = []
    for key, image in spec.images.items():
        if image.kind == "pull":
            change = plan_pull(key, image.reference, image.policy, state, image, errors)
            changes.append(pull_always.decide(change, state, remote))
    for ref in direct_references(spec):
        change = plan_pull(ref, ref, reference_policy(spec, ref), state, None, errors)
        changes.append(pull_always.decide(change, state, remote))
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


def reference_policy(spec: Spec, ref: str) -> str:
    """The pull policy of a reference no images key declares: its containers' pull_policy
    (Compose's), `always` if any says so, `never` if all do, else `if-missing`."""
    policies = {c.pull_policy or "if-missing" for c in spec.containers.values() if c.image == ref}
    return "always" if "always" in policies else "never" if policies == {"never"} else "if-missing"


def plan_pull(key, reference, policy, state: State, image, errors: list[Problem]) -> Change:
    target = Target("image", key, None, reference)
    present = state.image_id(reference)
    after = {"reference": reference, "kind": "pull", "policy": policy}
    before = {"reference": reference, "id": present} if present else None
    if policy == "always":
        return Change(Action.PULL, target, "policy always", before, after, cause=Reason.POLICY)
    if present:
        return Change(Action.UNCHANGED, target, "present", before, after, cause=Reason.UP_TO_DATE)
    if policy == "never":
        errors.append(
            Problem(
                f"image {reference} is not present locally and its policy is `never`; "
                f"load or pull it first, or set `{'' if image else 'pull_'}policy: if-missing`",
                image.location if image else None,
                f"images.{key}.policy" if image else "",
            )
        )
        return Change(
            Action.UNCHANGED, target, "missing (policy never)", after=after, cause=Reason.UNKNOWN
        )
    return Change(Action.PULL, target, "missing locally", after=after, cause=Reason.MISSING)


def always_references(spec: Spec) -> list[str]:
    """The references pulled with `policy: always`: their registry digests are read first."""
    refs = [i.reference for i in spec.images.values() if i.kind == "pull" and i.policy == "always"]
    refs += [r for r in direct_references(spec) if reference_policy(spec, r) == "always"]
    return list(dict.fromkeys(refs))


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
        return Change(
            Action.UNCHANGED,
            target,
            "build context unreadable",
            before,
            after,
            cause=Reason.UNKNOWN,
        )
    by_ref = _reference_keys(spec)
    bases = tuple(getattr(source, "bases", ()) or ())
    pending_bases = [b for b in bases if (k := by_ref.get(normalise_reference(b))) and k in pending]

    def build(reason: str, **kw: Any) -> Change:
        pulled = [
            ref
            for ref in bases
            if not by_ref.get(normalise_reference(ref)) and not state.image_id(ref)
        ]
        if pulled:
            reason += f"; FROM {', '.join(pulled)} pulled on demand"
        return Change(
            Action.BUILD,
            target,
            reason,
            before,
            after,
            depends_on=deps,
            warnings=_source_warnings(image, source),
            **kw,
        )

    if present is None:
        return build("missing locally")
    if source is None:
        return Change(
            Action.UNCHANGED,
            target,
            "present (source not checked)",
            before,
            after,
            cause=Reason.UP_TO_DATE,
        )
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
        intent = ImageIntent(current_hash=recorded, current_bases=recorded_bases)
        return build(reason, conditional=True, intent=intent, cause=Reason.PENDING_IMAGE)
    return Change(Action.UNCHANGED, target, "up to date", before, after, cause=Reason.UP_TO_DATE)


def _source_warnings(image: ImageSpec, source: Any) -> tuple[str, ...]:
    syntax = getattr(source, "syntax", None)
    if not syntax:
        return ()
    return (
        f"images.{image.key}: the Dockerfile's `# syntax={syntax}` directive is ignored: "
        "reconciler never fetches a Dockerfile frontend image; the engine's built-in "
        "frontend builds it",
    )


def _before(present: ObservedImage | None, ref: str) -> dict[str, Any] | None:
    if present is None:
        return None
    return {
        "reference": ref,
        "id": present.id,
        "source_hash": present.labels.get(LABEL_SOURCE_HASH),
    }


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
        return Change(
            Action.COMMIT,
            target,
            "missing locally",
            before,
            after,
            depends_on=deps,
            cause=Reason.MISSING,
        )
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
            intent=ImageIntent(current_hash=recorded),
            cause=Reason.PENDING_IMAGE,
        )
    if source is None:  # the base is missing and not pending: a plan error says why
        return Change(
            Action.UNCHANGED, target, "base image missing", before, after, cause=Reason.UNKNOWN
        )
    if recorded == source:
        return Change(
            Action.UNCHANGED, target, "up to date", before, after, cause=Reason.UP_TO_DATE
        )
    if recorded is None:
        reason = "not committed by this project (no source hash)"
    else:
        reason = describe_commit_change(present.labels, commit, base_ref, base_id or "")
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
