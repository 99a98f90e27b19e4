"""`policy: always` decided by the registry: the references whose digest is read before
planning (reconcile.make_plan), the pull or no pull that digest means, and the one warning
line for a registry that cannot be reached. Pure; called by plan/images.py and planner.py."""

from __future__ import annotations

from collections.abc import Mapping

from msgspec.structs import replace

from reconciler.model.ids import short_id
from reconciler.model.plan import Action, Change, Reason
from reconciler.model.registry import RemoteDigest
from reconciler.model.state import State, normalise_reference


def decide(change: Change, state: State, remote: Mapping[str, RemoteDigest] | None) -> Change:
    """A `policy: always` pull of a present image, decided by the registry's digest: unchanged
    when the local image has it (or the registry cannot be reached), else a pull."""
    reference = change.target.name
    found = remote.get(reference) if remote is not None else None
    if change.cause is not Reason.POLICY or found is None or not change.before:
        return change
    image = state.images.get(normalise_reference(reference))
    local = image.digests if image else ()
    if found.error:
        return replace(
            change,
            action=Action.UNCHANGED,
            reason="registry unreachable: the local image is kept",
            cause=Reason.UP_TO_DATE,
        )
    if found.digest and any(d.endswith("@" + found.digest) for d in local):
        return replace(
            change, action=Action.UNCHANGED, reason="as in the registry", cause=Reason.UP_TO_DATE
        )
    return replace(change, reason=f"policy always: the registry has {short_id(found.digest or '')}")


def unreachable_warnings(state: State, remote: Mapping[str, RemoteDigest] | None) -> list[str]:
    """One line per `policy: always` image whose registry could not be asked (kept as is)."""
    return [
        f"image {ref}: the registry cannot be reached, the local image is kept ({found.error})"
        for ref, found in (remote or {}).items()
        if found.error and state.image_id(ref)
    ]
