"""The engine adapter: the only module that imports the Docker SDK.

Callers (executor.py, cli.py, watch.py) get plain values (state.py) and the project's own
exceptions (errors.py): every docker.errors.* is translated here. Observing a project costs a
constant number of API calls whatever the number of containers (filtered lists, no inspect).
A container that vanishes between list and action is not an error for stop/remove.

CONTRACT (implementation in progress; signatures are fixed, callers rely on them):
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from reconciler.state import State

ProgressFn = Callable[[dict[str, Any]], None]  # receives raw progress/stream events


class Engine:
    """One connection to one Docker engine. Thread-safe for the executor's thread pool."""

    @classmethod
    def connect(cls, base_url: str | None = None, timeout: float = 120) -> Engine:
        """Connect to DOCKER_HOST (or base_url) and check it answers (one ping).
        Raises EngineUnavailable with a message that says how to start an engine."""
        raise NotImplementedError

    def close(self) -> None: ...

    # --- observe ---------------------------------------------------------------------------
    def observe(self, project: str) -> State:
        """Read the project's containers, every local image (for reference -> id), the project's
        images, networks and volumes: a constant number of list calls, no per-object inspect."""
        raise NotImplementedError

    # --- containers -------------------------------------------------------------------------
    def create_container(
        self,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        carry_volumes: Mapping[str, str] | None = None,
    ) -> str:
        """Create (not start) a container from a normalised config (spec.container_config):
        name, image, command, entrypoint, env, ports, volumes, workdir, user, restart,
        healthcheck, labels (config labels + `labels`), stop_timeout, hostname, networks.
        `carry_volumes` maps target path -> existing anonymous volume name to reuse.
        Returns the new container's id. Name in use -> Conflict; image missing -> NotFound."""
        raise NotImplementedError

    def start_container(self, container_id: str) -> None: ...
    def stop_container(self, container_id: str, timeout: float | None = None) -> None: ...
    def remove_container(self, container_id: str, volumes: bool = False) -> None: ...
    def rename_container(self, container_id: str, new_name: str) -> None: ...

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        """{'id', 'name', 'status', 'health', 'exit_code', 'running'}; NotFound if gone."""
        raise NotImplementedError

    def exec_run(self, container_id: str, cmd: list[str]) -> tuple[int, str]:
        """Run a command in a running container; (exit code, combined output)."""
        raise NotImplementedError

    def changed_paths(self, container_id: str, limit: int = 5) -> tuple[int, list[str]]:
        """`docker diff`: (number of changed paths, the first `limit` of them)."""
        raise NotImplementedError

    def anonymous_volumes(self, container_id: str) -> dict[str, str]:
        """Target path -> volume name for the container's anonymous volumes (to carry over)."""
        raise NotImplementedError

    # --- images -----------------------------------------------------------------------------
    def pull(self, reference: str, progress: ProgressFn | None = None) -> str:
        """Pull and return the image id; errors hidden in the stream raise ImageError."""
        raise NotImplementedError

    def image_id(self, reference: str) -> str | None: ...
    def remove_image(self, image: str) -> None: ...

    # --- events -----------------------------------------------------------------------------
    def events(
        self, filters: Mapping[str, Any] | None = None, since: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Decoded engine events (blocking iterator); used by watch and the tests."""
        raise NotImplementedError
