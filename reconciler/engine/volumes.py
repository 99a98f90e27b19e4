"""Volume operations of the Docker adapter: create and remove named volumes.

`VolumeOps` is composed into `engine.Engine` (adapter.py) and is the base of ContainerOps
(removing a container with its volumes); callers reach it through `EnginePort` (VolumesPort).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from reconciler.engine.client import EngineClient
from reconciler.errors import NotFound


class VolumeOps(EngineClient):
    """Operations on named volumes."""

    def create_volume(
        self,
        name: str,
        driver: str = "local",
        driver_opts: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> str:
        """Create a named volume (the engine returns an existing one unchanged)."""
        with self._translate(f"cannot create volume {name}"):
            created = self._api.create_volume(
                name, driver=driver, driver_opts=dict(driver_opts or {}), labels=dict(labels or {})
            )
        return created["Name"]

    def remove_volume(self, name: str) -> None:
        """Gone is fine; in use -> Conflict."""
        with contextlib.suppress(NotFound), self._translate(f"cannot remove volume {name}"):
            self._api.remove_volume(name)

    def volume_labels(self, name: str) -> dict[str, str] | None:
        """The labels of a named volume; None when it does not exist."""
        try:
            with self._translate(f"cannot inspect volume {name}"):
                raw = self._api.inspect_volume(name)
        except NotFound:
            return None
        return dict(raw.get("Labels") or {})
