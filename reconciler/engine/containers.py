"""Container operations of the Docker adapter: list by label, create, start, stop, remove,
rename, inspect, exec (non-interactive), diff and the anonymous volumes to carry over.

`ContainerOps` is composed into `engine.Engine` (adapter.py); callers reach it through the
`EnginePort` (port.py: ContainersPort). Request bodies and inspect parsing are in translate.py.
A container that vanishes between list and action is not an error for stop/remove.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping
from typing import Any

from reconciler.engine.diffs import user_changes
from reconciler.engine.translate import (
    anonymous_mounts,
    container_create_body,
    container_info,
    container_name,
    observed_container,
)
from reconciler.engine.translate_options import endpoint_addresses
from reconciler.engine.volumes import VolumeOps
from reconciler.errors import Conflict, EngineError, NotFound
from reconciler.model.state import ObservedContainer

_PORT_ALLOCATED = re.compile(r"Bind for (\S+?):(\d+) failed: port is already allocated")
_ADDRESS_IN_USE = re.compile(r"listen \w+ (\S+?):(\d+): bind: address already in use")


class ContainerOps(VolumeOps):
    """Operations on containers (a removal with `volumes` also removes the container's
    anonymous volumes, hence the volume operations as a base)."""

    def list_containers_by_label(self, label_filter: str | list[str]) -> list[ObservedContainer]:
        """Every container (running or not) matching a label filter ("key" or "key=value",
        or a list of them, all of which must match): one list call."""
        with self._translate(f"list containers labelled {label_filter}"):
            raw = self._api.containers(all=True, filters={"label": label_filter})
        result = []
        for item in raw:
            result.append(observed_container(item, container_name(item), item.get("Labels") or {}))
        return result

    def create_container(
        self,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        carry_volumes: Mapping[str, str] | None = None,
        *,
        volume_names: Mapping[str, str] | None = None,
        network_names: Mapping[str, str] | None = None,
    ) -> str:
        """Create (not start) a container from a normalised config (model/config.container_config):
        name, image, command, entrypoint, env, ports, volumes, workdir, user, restart,
        healthcheck, labels (config labels + `labels`), stop_timeout, hostname, networks.
        `carry_volumes` maps target path -> existing anonymous volume name to reuse.
        `volume_names` / `network_names` map a spec key to its engine name (default: the
        config's string is the engine name).
        Returns the new container's id. Name in use -> Conflict; image missing -> NotFound."""
        name = config["name"]
        body, networks = container_create_body(
            config, labels, carry_volumes, volume_names=volume_names, network_names=network_names
        )
        action = f"cannot create container {name}"
        with self._translate(
            action,
            conflict=lambda e: f"{action}: the name {name} is already in use ({e})",
            not_found=lambda e: f"{action}: image {config['image']} not found ({e})",
        ):
            created = self._api.create_container_from_config(
                body, name=name, platform=config.get("platform")
            )
        container_id = created["Id"]
        addresses = endpoint_addresses(config, network_names or {})
        for network, aliases in networks[1:]:
            fixed = addresses.get(network, {})
            try:
                with self._translate(f"cannot connect container {name} to network {network}"):
                    self._api.connect_container_to_network(
                        container_id,
                        network,
                        aliases=aliases or None,
                        ipv4_address=fixed.get("IPv4Address"),
                        ipv6_address=fixed.get("IPv6Address"),
                    )
            except EngineError:
                with contextlib.suppress(EngineError):
                    self.remove_container(container_id)
                raise
        return container_id

    def start_container(self, container_id: str) -> None:
        try:
            with self._translate(f"cannot start container {container_id}"):
                self._api.start(container_id)
        except EngineError as exc:
            raise _start_error(exc, self._describe(container_id), container_id) from exc.__cause__

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """Stop (SIGTERM, then SIGKILL after `timeout` s, or the container's own
        stop_timeout). Already stopped or gone is not an error."""
        seconds = None if timeout is None else max(0, math.ceil(timeout))
        with (
            contextlib.suppress(NotFound),
            self._translate(f"cannot stop container {container_id}"),
        ):
            self._api.stop(container_id, timeout=seconds)

    def remove_container(self, container_id: str, volumes: bool = False) -> None:
        """Force-remove (running or not). Gone already is not an error. With `volumes`, also
        the container's anonymous volumes, carried-over ones included (those the engine
        would keep because they were mounted by name); a volume still in use is kept."""
        anonymous: dict[str, str] = {}
        if volumes:
            with contextlib.suppress(NotFound):
                anonymous = self.anonymous_volumes(container_id)
        try:
            with self._translate(f"cannot remove container {container_id}"):
                self._api.remove_container(container_id, v=volumes, force=True)
        except NotFound:
            pass
        except Conflict as exc:
            if "already in progress" not in str(exc):
                raise
        for volume in anonymous.values():
            with contextlib.suppress(NotFound, Conflict):
                self.remove_volume(volume)

    def rename_container(self, container_id: str, new_name: str) -> None:
        action = f"cannot rename container {container_id} to {new_name}"
        with self._translate(
            action, conflict=lambda e: f"{action}: the name {new_name} is already in use ({e})"
        ):
            self._api.rename(container_id, new_name)

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        """{'id', 'name', 'status', 'health', 'exit_code', 'running', 'started_at',
        'finished_at', 'restart_count', 'error', 'image_id', 'labels'}; NotFound if gone.
        'started_at'/'finished_at' are the engine's RFC 3339 strings or None."""
        with self._translate(
            f"cannot inspect container {container_id}",
            not_found=lambda e: f"container {container_id} not found ({e})",
        ):
            raw = self._api.inspect_container(container_id)
        return container_info(raw)

    def exec_run(
        self, container_id: str, cmd: list[str], *, user: str = "", workdir: str | None = None
    ) -> tuple[int, str]:
        """Run a command in a running container; (exit code, combined output).
        Not running -> Conflict; gone -> NotFound. A missing binary is exit code 126/127 with
        the runtime's message as output, like `docker exec`. Three API calls."""
        action = f"cannot exec {' '.join(cmd)!r} in container {container_id}"
        with self._translate(action):
            created = self._api.exec_create(
                container_id, cmd, stdout=True, stderr=True, user=user, workdir=workdir
            )
            output = self._api.exec_start(created["Id"], stream=False, demux=False)
            exit_code = self._api.exec_inspect(created["Id"]).get("ExitCode")
        text = output.decode("utf-8", errors="replace") if isinstance(output, bytes) else output
        return (exit_code if exit_code is not None else -1), text or ""

    def changed_paths(self, container_id: str, limit: int = 5) -> tuple[int, list[str]]:
        """`docker diff`: (number of changed paths, the first `limit` of them)."""
        with self._translate(f"cannot list changes of container {container_id}"):
            changes = self._api.diff(container_id) or []
            mounts = (
                (self._api.inspect_container(container_id).get("Mounts") or []) if changes else []
            )
        kinds = [(str(c.get("Kind", "")), c.get("Path", "")) for c in changes]
        paths = user_changes(kinds, [m.get("Destination", "") for m in mounts])
        return len(paths), paths[: max(0, limit)]

    def filesystem_changes(self, container_id: str) -> list[tuple[str, str]]:
        """`docker diff`: (A|C|D, path) per changed path (the API's Kind 1, 0, 2)."""
        with self._translate(f"cannot list changes of container {container_id}"):
            changes = self._api.diff(container_id) or []
        kinds = {0: "C", 1: "A", 2: "D"}
        return [(kinds.get(c.get("Kind"), "?"), c.get("Path", "")) for c in changes]

    def anonymous_volumes(self, container_id: str) -> dict[str, str]:
        """Target path -> volume name for the container's anonymous volumes (to carry over):
        volumes with an engine-generated name (anonymous mounts, image VOLUMEs, and volumes
        carried over before) and volumes at the config label's anonymous targets."""
        with self._translate(f"cannot inspect container {container_id}"):
            raw = self._api.inspect_container(container_id)
        return anonymous_mounts(raw)


def _start_error(exc: EngineError, name: str, container_id: str) -> EngineError:
    text = str(exc)
    match = _PORT_ALLOCATED.search(text) or _ADDRESS_IN_USE.search(text)
    if match:
        ip, port = match.group(1), match.group(2)
        return Conflict(f"cannot start container {name}: host port {ip}:{port} already in use")
    message = text.replace(
        f"cannot start container {container_id}", f"cannot start container {name}"
    )
    return type(exc)(message)
