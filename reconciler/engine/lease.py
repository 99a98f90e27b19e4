"""Engine-side leases: the project lock that every process talking to the same engine sees,
whatever its environment or host (reconciler/lock.py decides; this module only talks to the
engine). A lease is a stopped container with a fixed name, `reconciler-lock-<project>`:
creating a container under a name that is taken fails on the engine, atomically, so exactly
one process holds it. Its labels say who holds it (host, pid, start time, expiry).

The container is made from `reconciler-lock:1`, an image with no files that this module
imports from an empty tar the first time it is missing (no registry, nothing pulled); the
container is never started. `LeaseOps` is composed into `engine.Engine` (adapter.py).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from reconciler.engine.client import EngineClient
from reconciler.errors import Conflict, NotFound

LEASE_IMAGE = "reconciler-lock:1"


def _empty_tar() -> bytes:
    import tarfile  # stdlib, lazy: only a lease's first use needs it (issue 14)

    buf = io.BytesIO()
    tarfile.open(fileobj=buf, mode="w").close()
    return buf.getvalue()


class LeaseOps(EngineClient):
    """Create, read and remove lease containers."""

    def acquire_lease(self, name: str, labels: Mapping[str, str]) -> str | None:
        """Create the lease container `name`; its id, or None when the name is taken."""
        for attempt in range(2):
            try:
                with self._translate(f"cannot create lease {name}"):
                    created = self._api.create_container(
                        LEASE_IMAGE,
                        command=["lease"],
                        name=name,
                        labels=dict(labels),
                        network_disabled=True,
                    )
                return str(created["Id"])
            except Conflict:
                return None
            except NotFound:
                if attempt:
                    raise
                with self._translate(f"cannot create the lease image {LEASE_IMAGE}"):
                    self._api.import_image_from_data(
                        _empty_tar(), repository="reconciler-lock", tag="1"
                    )
        return None

    def lease_holder(self, name: str) -> dict[str, Any] | None:
        """{'id', 'labels'} of the lease container `name`; None when there is none."""
        try:
            with self._translate(f"cannot inspect lease {name}"):
                raw = self._api.inspect_container(name)
        except NotFound:
            return None
        return {"id": raw["Id"], "labels": dict((raw.get("Config") or {}).get("Labels") or {})}

    def release_lease(self, lease_id: str) -> bool:
        """Remove the lease container with this id; False when it is already gone."""
        try:
            with self._translate(f"cannot remove lease {lease_id[:12]}"):
                self._api.remove_container(lease_id, force=True)
        except NotFound:
            return False
        return True
