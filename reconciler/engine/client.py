"""The engine connection: connect, close, call counting, error translation and observe.

`EngineClient` is the base of `engine.Engine` (adapter.py), which adds the per-kind
operations (containers.py, images.py, networks.py, volumes.py, streams.py); each of them runs
its API calls inside `self._translate(...)`, so every docker.errors.* / requests error becomes
one of the project's exceptions (errors.py) here and nowhere else.

Observing a project costs a constant number of API calls whatever the number of containers
(filtered lists, no inspect). The SDK is imported lazily (in `connect()` and `_translate()`)
so that the CLI starts fast; only the low-level `docker.APIClient` is used, never the
high-level objects that re-inspect. `api_calls` counts the HTTP requests sent (thread-safe);
tests and benchmarks read it to prove that observe costs a constant number of calls.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, Self

from reconciler.engine.translate import (
    container_name,
    observed_container,
    observed_image,
)
from reconciler.errors import Conflict, EngineError, EngineUnavailable, NotFound
from reconciler.model.labels import LABEL_PROJECT, owned_container
from reconciler.model.state import (
    ObservedContainer,
    ObservedImage,
    ObservedNetwork,
    ObservedVolume,
    State,
)

_SETUP_HINT = "Start dockerd (e.g. `bash scripts/engine-setup.sh`) or set DOCKER_HOST."


class EngineClient:
    """One connection to one Docker engine. Thread-safe for the executor's thread pool."""

    def __init__(self, api: Any, address: str) -> None:
        """Use `Engine.connect()`; `api` is a `docker.APIClient`."""
        self._api = api
        self.address = address
        self._calls = 0
        self._calls_lock = threading.Lock()
        self._install_call_counter()

    @classmethod
    def connect(
        cls, base_url: str | None = None, timeout: float = 120, max_pool_size: int = 16
    ) -> Self:
        """Connect to DOCKER_HOST (or base_url) and check it answers (one request: the API
        version negotiation, which doubles as the ping).
        Raises EngineUnavailable with a message that says how to start an engine."""
        import docker
        import docker.utils

        kwargs: dict[str, Any] = {}
        try:
            kwargs = docker.utils.kwargs_from_env()
        except docker.errors.DockerException as exc:  # bad DOCKER_TLS_VERIFY / cert path
            raise EngineUnavailable(f"invalid Docker client environment: {exc}") from exc
        if base_url:
            kwargs["base_url"] = base_url
        address = kwargs.get("base_url") or "unix:///var/run/docker.sock"
        try:
            # version="auto" asks the engine for its API version: that request is the ping.
            api = docker.APIClient(
                version="auto", timeout=timeout, max_pool_size=max_pool_size, **kwargs
            )
        except Exception as exc:  # DockerException, requests/urllib3 errors, OSError
            cause = _root_cause(exc)
            raise EngineUnavailable(
                f"cannot reach the Docker engine at {address}: {cause}. {_SETUP_HINT}"
            ) from exc
        return cls(api, address)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- call counting --------------------------------------------------------------------
    def _install_call_counter(self) -> None:
        send = self._api.send

        def counting_send(request: Any, **kwargs: Any) -> Any:
            with self._calls_lock:
                self._calls += 1
            return send(request, **kwargs)

        # requests.Session.request() calls self.send(): an instance attribute shadows it.
        self._api.send = counting_send

    @property
    def api_calls(self) -> int:
        """HTTP requests sent to the engine since connect (the version check excluded)."""
        with self._calls_lock:
            return self._calls

    @property
    def api_version(self) -> str:
        return str(self._api.api_version)

    # --- error translation ----------------------------------------------------------------
    @contextlib.contextmanager
    def _translate(
        self,
        action: str,
        *,
        conflict: Callable[[str], str] | None = None,
        not_found: Callable[[str], str] | None = None,
    ) -> Iterator[None]:
        """Turn SDK/HTTP exceptions into the project's errors. `action` says what was being
        done ("create container web-1"); `conflict`/`not_found` may rewrite the message."""
        import docker.errors
        import requests.exceptions
        import urllib3.exceptions

        try:
            yield
        except docker.errors.APIError as exc:
            explanation = _explanation(exc)
            status = exc.status_code
            if status == 404:
                message = not_found(explanation) if not_found else f"{action}: {explanation}"
                raise NotFound(message) from exc
            if status == 409:
                message = conflict(explanation) if conflict else f"{action}: {explanation}"
                raise Conflict(message) from exc
            raise EngineError(f"{action}: {explanation}") from exc
        except requests.exceptions.Timeout as exc:
            raise EngineError(
                f"{action}: the Docker engine at {self.address} did not answer in time"
            ) from exc
        except (
            requests.exceptions.ConnectionError,
            urllib3.exceptions.ProtocolError,
            ConnectionError,
        ) as exc:
            raise EngineUnavailable(
                f"{action}: lost the Docker engine at {self.address}: {_root_cause(exc)}. "
                f"{_SETUP_HINT}"
            ) from exc
        except docker.errors.DockerException as exc:
            raise EngineError(f"{action}: {exc}") from exc

    def _describe(self, container_id: str) -> str:
        """A container's name for an error message (one inspect, only on error paths)."""
        try:
            name = self._api.inspect_container(container_id).get("Name", "")
        except Exception:
            return container_id[:12] if _looks_like_id(container_id) else container_id
        return name.lstrip("/") or container_id[:12]

    # --- observe ---------------------------------------------------------------------------
    def observe(self, project: str) -> State:
        """Read the project's containers, every local image (for reference -> id), the project's
        images, networks and volumes: a constant number of list calls, no per-object inspect."""
        with self._translate(f"observe project {project}"):
            raw_containers = self._api.containers(all=True)
            raw_images = self._api.images()
            # Unfiltered (same number of calls): externals and name clashes matter too.
            raw_networks = self._api.networks()
            raw_volumes = self._api.volumes()

        owned: list[ObservedContainer] = []
        foreign: dict[str, str] = {}
        users: dict[str, list[str]] = {}
        for raw in raw_containers:
            name = container_name(raw)
            labels = raw.get("Labels") or {}
            image_id = raw.get("ImageID") or ""
            if image_id:
                users.setdefault(image_id, []).append(name)
            if owned_container(labels, project):
                owned.append(observed_container(raw, name, labels))
            else:
                foreign[name] = raw.get("Id", "")

        images: dict[str, ObservedImage] = {}
        project_images: list[ObservedImage] = []
        for raw in raw_images:
            image = observed_image(raw)
            for ref in (*image.tags, *(raw.get("RepoDigests") or ())):
                if "<none>" not in ref:
                    images[ref] = image
            if image.labels.get(LABEL_PROJECT) == project:
                project_images.append(image)

        networks: dict[str, ObservedNetwork] = {}
        other_networks: dict[str, ObservedNetwork] = {}
        for n in raw_networks or ():
            network = ObservedNetwork(
                id=n.get("Id", ""),
                name=n["Name"],
                driver=n.get("Driver") or "bridge",
                labels=dict(n.get("Labels") or {}),
            )
            ours = network.labels.get(LABEL_PROJECT) == project
            (networks if ours else other_networks)[network.name] = network
        volumes: dict[str, ObservedVolume] = {}
        other_volumes: dict[str, ObservedVolume] = {}
        for v in (raw_volumes or {}).get("Volumes") or ():
            volume = ObservedVolume(
                name=v["Name"],
                driver=v.get("Driver") or "local",
                labels=dict(v.get("Labels") or {}),
            )
            ours = volume.labels.get(LABEL_PROJECT) == project
            (volumes if ours else other_volumes)[volume.name] = volume
        return State(
            project=project,
            containers=tuple(sorted(owned, key=lambda c: (c.key, c.replica, c.name))),
            foreign_names=foreign,
            image_users={k: tuple(sorted(v)) for k, v in users.items()},
            images=images,
            project_images=tuple(sorted(project_images, key=lambda i: i.id)),
            networks=networks,
            volumes=volumes,
            other_networks=other_networks,
            other_volumes=other_volumes,
        )


def _looks_like_id(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{12,64}", text))


def _explanation(exc: Any) -> str:
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", errors="replace")
    return (explanation or str(exc)).strip()


def _root_cause(exc: BaseException) -> str:
    """The innermost cause's message: "[Errno 2] No such file or directory", not the whole
    chain of requests/urllib3 wrappers."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = exc.__cause__ or exc.__context__
        if inner is None and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if inner is None:
            reason = getattr(exc, "reason", None)
            inner = reason if isinstance(reason, BaseException) else None
        if inner is None:
            break
        exc = inner
    return str(exc) or type(exc).__name__
