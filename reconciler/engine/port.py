"""The engine port: the whole contract the rest of the code uses on an engine.

`execute/`, `reconcile.py`, `watch/`, `ui/attach.py` and `commands/` type their `engine`
parameters with `EnginePort`; `engine.Engine` (the Docker adapter) implements it, and so does
`tests/unit/fake_engine.FakeEngine` (checked by mypy). Another backend (e.g. Swarm) implements
the same protocol. This module imports no SDK: only model values and typing.

Conventions every implementation keeps:
- Errors are the project's own (errors.py): NotFound, Conflict, ImageError, EngineError,
  EngineUnavailable; never an SDK exception.
- A container that vanishes between list and action is not an error for stop/remove.
- `observe` costs a constant number of API calls whatever the number of containers.
- Inspect results are plain dicts (keys documented per method) and plain model values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, Protocol

from reconciler.model.spec import BuildSpec, CommitChanges
from reconciler.model.state import ObservedContainer, State
from reconciler.model.swarm import ObservedService, SwarmState

ProgressFn = Callable[[dict[str, Any]], None]  # receives raw progress/stream events


class EventStreamPort(Protocol):
    """Decoded engine events; `close()` ends the iteration (from another thread too)."""

    def __iter__(self) -> Iterator[dict[str, Any]]: ...

    def __next__(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class ByteStreamPort(Protocol):
    """Byte chunks (a container's logs, not split into lines); `close()` ends it."""

    def __iter__(self) -> Iterator[bytes]: ...

    def __next__(self) -> bytes: ...

    def close(self) -> None: ...


class ExecSessionPort(Protocol):
    """An attached `exec`: output frames, stdin, resize and the exit code."""

    STDOUT: int
    STDERR: int
    exec_id: str
    tty: bool

    def fileno(self) -> int: ...

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(stream, data) until the command ends: 1 is stdout, 2 stderr."""
        ...

    def read_some(self, n: int = 4096) -> bytes:
        """Raw bytes (TTY sessions): b'' at the end."""
        ...

    def send(self, data: bytes) -> None: ...

    def close_stdin(self) -> None: ...

    def resize(self, height: int, width: int) -> None: ...

    def exit_code(self) -> int:
        """The command's exit code (-1 when unknown)."""
        ...

    def close(self) -> None: ...


class ContainersPort(Protocol):
    def list_containers_by_label(self, label_filter: str | list[str]) -> list[ObservedContainer]:
        """Every container matching a label filter ("key", "key=value" or a list of them)."""
        ...

    def create_container(
        self,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        carry_volumes: Mapping[str, str] | None = None,
        *,
        volume_names: Mapping[str, str] | None = None,
        network_names: Mapping[str, str] | None = None,
    ) -> str:
        """Create (not start) from a normalised config; the new id. Name in use -> Conflict;
        image missing -> NotFound."""
        ...

    def start_container(self, container_id: str) -> None: ...

    def stop_container(self, container_id: str, timeout: float | None = None) -> None: ...

    def remove_container(self, container_id: str, volumes: bool = False) -> None: ...

    def rename_container(self, container_id: str, new_name: str) -> None: ...

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        """{'id', 'name', 'status', 'health', 'exit_code', 'running', 'started_at',
        'finished_at', 'restart_count', 'error', 'image_id', 'labels'}; NotFound if gone."""
        ...

    def exec_run(
        self, container_id: str, cmd: list[str], *, user: str = "", workdir: str | None = None
    ) -> tuple[int, str]:
        """(exit code, combined output) of a command in a running container."""
        ...

    def changed_paths(self, container_id: str, limit: int = 5) -> tuple[int, list[str]]: ...

    def filesystem_changes(self, container_id: str) -> list[tuple[str, str]]:
        """`docker diff`: (kind, path) per changed path, kind A (added), C (changed) or
        D (deleted), in the engine's order."""
        ...

    def anonymous_volumes(self, container_id: str) -> dict[str, str]:
        """Target path -> volume name of the container's anonymous volumes."""
        ...


class ImagesPort(Protocol):
    def pull(self, reference: str, progress: ProgressFn | None = None) -> str: ...

    def image_id(self, reference: str) -> str | None: ...

    def registry_digest(self, reference: str) -> str:
        """The registry's current digest for `reference`; EngineError when unreachable."""
        ...

    def remove_image(self, image: str, force: bool = False) -> None: ...

    def inspect_image(self, reference: str) -> dict[str, Any] | None:
        """{'id', 'tags', 'labels', 'cmd', 'entrypoint', 'env', 'workdir', 'user',
        'exposed_ports', 'parent'}; None when absent."""
        ...

    def image_users(self, image_id: str) -> list[str]: ...

    def build(
        self,
        context: IO[bytes],
        tag: str,
        *,
        dockerfile: str = "Dockerfile",
        buildargs: Mapping[str, str] | None = None,
        target: str | None = None,
        labels: Mapping[str, str] | None = None,
        progress: ProgressFn | None = None,
        no_cache: bool = False,
        options: BuildSpec | None = None,
    ) -> str:
        """The classic builder; `options`: cache_from, network, extra_hosts, shm_size."""
        ...

    def buildkit_cli(self) -> tuple[str | None, str]:
        """(a docker CLI that can build with BuildKit, "") or (None, why there is none)."""
        ...

    def build_buildkit(
        self,
        context: IO[bytes],
        tag: str,
        *,
        dockerfile: str,
        build: BuildSpec,
        labels: Mapping[str, str],
        expect: Mapping[str, str],
        progress: ProgressFn | None = None,
        no_cache: bool = False,
    ) -> str:
        """BuildKit through that CLI; `expect`: labels the result must carry."""
        ...

    def create_helper_container(self, image: str, name: str, entrypoint: list[str]) -> str: ...

    def commit(
        self,
        container_id: str,
        reference: str,
        *,
        base: Mapping[str, Any],
        changes: CommitChanges,
        labels: Mapping[str, str],
    ) -> str:
        """Commit as `reference`: the base image's config (an `inspect_image` result) with
        `changes` and `labels` applied; the new image id."""
        ...


class NetworksPort(Protocol):
    def create_network(
        self,
        name: str,
        driver: str = "bridge",
        labels: Mapping[str, str] | None = None,
        internal: bool = False,
        subnet: str | None = None,
        attachable: bool = False,
        options: Mapping[str, Any] | None = None,  # ipam, driver_opts, enable_ipv6 (issue 13)
    ) -> str: ...

    def remove_network(self, name: str) -> None: ...

    def network_attachments(self, name: str) -> list[dict[str, Any]]:
        """[{'id', 'name', 'labels', 'aliases'}] of the containers attached to a network."""
        ...

    def connect_network(
        self, container_id: str, network: str, aliases: list[str] | None = None
    ) -> None: ...

    def disconnect_network(self, container_id: str, network: str) -> None: ...


class LeasesPort(Protocol):
    """The engine side of the project lock (lock.py; engine/lease.py)."""

    def acquire_lease(self, name: str, labels: Mapping[str, str]) -> str | None:
        """Create the lease container `name` atomically; its id, or None when it is taken."""
        ...

    def lease_holder(self, name: str) -> dict[str, Any] | None:
        """{'id', 'labels'} of the lease container `name`; None when there is none."""
        ...

    def release_lease(self, lease_id: str) -> bool:
        """Remove the lease with this id; False when it is already gone."""
        ...


class VolumesPort(Protocol):
    def create_volume(
        self,
        name: str,
        driver: str = "local",
        driver_opts: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> str: ...

    def remove_volume(self, name: str) -> None: ...

    def volume_labels(self, name: str) -> dict[str, str] | None:
        """The labels of a named volume; None when it does not exist."""
        ...


class StreamsPort(Protocol):
    def logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        timestamps: bool = False,
    ) -> ByteStreamPort: ...

    def exec_attach(
        self,
        container_id: str,
        cmd: list[str],
        *,
        tty: bool = False,
        stdin: bool = False,
        user: str = "",
        workdir: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecSessionPort: ...

    def events(
        self,
        filters: Mapping[str, Any] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> EventStreamPort: ...


class ServicesPort(Protocol):
    """target swarm (engine/services.py)."""

    def observe_swarm(self, project: str) -> SwarmState:
        """The project's services and tasks, other services' names, the nodes."""
        ...

    def inspect_service(self, service_id: str) -> ObservedService: ...

    def create_service(
        self, config: Mapping[str, Any], labels: Mapping[str, str], replicas: int, image: str
    ) -> str: ...

    def update_service(
        self,
        service_id: str,
        version: int,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        replicas: int,
        image: str,
    ) -> None: ...

    def scale_service(self, service_id: str, replicas: int) -> None: ...

    def remove_service(self, service_id: str) -> None: ...

    def service_leftovers(self, service_id: str) -> int:
        """Tasks and local containers a removed service still has."""
        ...

    def pinned_image(self, reference: str, push: bool = False) -> str:
        """`reference@sha256:...` (pushed first with `push`)."""
        ...


class EnginePort(
    ContainersPort,
    ImagesPort,
    NetworksPort,
    VolumesPort,
    StreamsPort,
    ServicesPort,
    LeasesPort,
    Protocol,
):
    """Everything the rest of the code calls on an engine."""

    def observe(self, project: str) -> State:
        """The project's containers, every local image, networks and volumes."""
        ...

    def close(self) -> None: ...
