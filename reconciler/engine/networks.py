"""Network operations of the Docker adapter: create, remove, list attachments, connect
and disconnect containers.

`NetworkOps` is composed into `engine.Engine` (adapter.py); callers (execute/resources.py)
reach it through `EnginePort` (NetworksPort).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from reconciler.engine.client import EngineClient
from reconciler.engine.translate_options import network_create_options
from reconciler.errors import Conflict, EngineError, NotFound


class NetworkOps(EngineClient):
    """Operations on networks."""

    def create_network(
        self,
        name: str,
        driver: str = "bridge",
        labels: Mapping[str, str] | None = None,
        internal: bool = False,
        subnet: str | None = None,
        attachable: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> str:
        """Create a network; returns its id. Name in use -> Conflict. `options`: the
        config's ipam, driver_opts and enable_ipv6 (model/container_options.network_options)."""
        from docker.types import IPAMConfig, IPAMPool

        extra = network_create_options(options)
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)]) if subnet else None
        ipam = extra.pop("ipam", ipam)
        action = f"cannot create network {name}"
        with self._translate(action):
            created = self._api.create_network(
                name,
                driver=driver,
                labels=dict(labels or {}),
                internal=internal,
                ipam=ipam,
                check_duplicate=True,
                attachable=attachable or None,  # overlay networks of target swarm
                **extra,
            )
        return created["Id"]

    def remove_network(self, name: str) -> None:
        """Gone is fine; still used by a container -> Conflict (the engine says 403)."""
        action = f"cannot remove network {name}"
        try:
            with contextlib.suppress(NotFound), self._translate(action):
                self._api.remove_network(name)
        except EngineError as exc:
            if "active endpoints" in str(exc):
                raise Conflict(str(exc)) from exc.__cause__
            raise

    def network_attachments(self, name: str) -> list[dict[str, Any]]:
        """The containers attached to a network: [{'id', 'name', 'labels', 'aliases'}] (the
        aliases given at connect; the engine's automatic short-id alias left out). One
        network inspect plus one container inspect per attached container."""
        with self._translate(f"cannot inspect network {name}"):
            raw = self._api.inspect_network(name)
        result = []
        for container_id in sorted(raw.get("Containers") or {}):
            try:
                with self._translate(f"cannot inspect container {container_id}"):
                    info = self._api.inspect_container(container_id)
            except NotFound:
                continue  # removed meanwhile
            endpoint = ((info.get("NetworkSettings") or {}).get("Networks") or {}).get(name) or {}
            aliases = [a for a in endpoint.get("Aliases") or () if a != container_id[:12]]
            result.append(
                {
                    "id": container_id,
                    "name": (info.get("Name") or "").lstrip("/"),
                    "labels": dict((info.get("Config") or {}).get("Labels") or {}),
                    "aliases": aliases,
                }
            )
        return result

    def connect_network(
        self, container_id: str, network: str, aliases: list[str] | None = None
    ) -> None:
        with self._translate(f"cannot connect container {container_id} to network {network}"):
            self._api.connect_container_to_network(container_id, network, aliases=aliases or None)

    def disconnect_network(self, container_id: str, network: str) -> None:
        """Gone (container or network) is fine."""
        action = f"cannot disconnect container {container_id} from network {network}"
        with contextlib.suppress(NotFound), self._translate(action):
            self._api.disconnect_container_from_network(container_id, network, force=True)
