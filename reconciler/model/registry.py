"""What a registry says about a `policy: always` image, read before planning (like build
sources): its current digest, or why it could not be asked. Made by reconcile.make_plan
(engine distribution inspect), read by plan/images.py."""

from __future__ import annotations

from msgspec import Struct


class RemoteDigest(Struct, frozen=True):
    """One reference's answer: made by reconcile.registry_digests, read by plan/pull_always.py."""

    digest: str | None = None  # "sha256:...": what the registry has under the reference now
    error: str | None = None  # the registry could not be reached (the image counts unchanged)
