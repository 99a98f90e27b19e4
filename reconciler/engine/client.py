"""The engine connection: connect, close, call counting, error translation and observe.

`EngineClient` is the base of `engine.Engine` (adapter.py), which adds the per-kind
operations (containers.py, images.py, networks.py, volumes.py, streams.py); each of them runs
its API calls inside `self._translate(...)`, so every docker.errors.* / requests error becomes
one of the project's exceptions (errors.py) here and nowhere else.

Observing a project costs a constant number of API calls whatever the number of containers
(filtered lists, no inspect). The endpoint is resolved like the docker CLI (endpoint.py:
DOCKER_HOST, contexts, TLS variables). On a unix socket (the default) the version ping and
observe's lists go over the socket with the standard library (rawhttp.py) and the SDK is
imported only when `self._api` is first used (a mutation, a stream, an inspect); it is then
created with the already negotiated version, so it costs no extra API call. TCP, TLS and SSH
hosts use the SDK from `connect()` on. Only the low-level `docker.APIClient` is used, never
the high-level objects that re-inspect. `api_calls` counts the HTTP requests sent on either
path (thread-safe); tests and benchmarks read it to prove that observe costs a constant
number of calls.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self

from reconciler.engine import readahead
from reconciler.engine.compose_observed import compose_observed
from reconciler.engine.endpoint import Endpoint, keep_tls_verify, resolve, sdk_kwargs
from reconciler.engine.errormap import (
    SETUP_HINT,
    lost,
    root_cause,
    sdk_error,
    status_error,
    timed_out,
)
from reconciler.engine.rawhttp import HTTPStatusError, TransportError, UnixHTTP
from reconciler.engine.translate import (
    container_name,
    foreign_ports,
    observed_container,
    observed_image,
)
from reconciler.errors import EngineUnavailable
from reconciler.model.labels import LABEL_PROJECT, compose_container, owned_container
from reconciler.model.state import (
    ObservedContainer,
    ObservedImage,
    ObservedNetwork,
    ObservedVolume,
    State,
)


def owned_or_adopted(labels: Mapping[str, str], project: str) -> bool:
    """Owned by the project, or a Compose container of its name (adopted or held)."""
    return owned_container(labels, project) or compose_container(labels, project)


class EngineClient:
    """One connection to one Docker engine. Thread-safe for the executor's thread pool."""

    def __init__(
        self,
        api: Any,
        address: str,
        *,
        raw: UnixHTTP | None = None,
        endpoint: Endpoint | None = None,
        api_version: str = "",
        max_pool_size: int = 16,
    ) -> None:
        """Use `Engine.connect()`. `api` is a `docker.APIClient`, or None with `raw` (the
        unix-socket read path): the SDK client is then made on first use of `_api`."""
        self._sdk = api
        self._raw = raw
        self._endpoint = endpoint or Endpoint(host=address)
        self._version = api_version
        self._read_ahead: tuple[Any, ...] | None = None  # observe's lists, read at start-up
        self._max_pool_size = max_pool_size
        self.address = address
        self._calls = 0
        self._mutations = 0  # requests other than GET/HEAD (create, update, remove, ...)
        self._calls_lock = threading.Lock()
        self._sdk_lock = threading.Lock()
        if api is not None:
            self._install_call_counter(api)

    @classmethod
    def connect(
        cls, base_url: str | None = None, timeout: float = 120, max_pool_size: int = 16
    ) -> Self:
        """Connect to the engine the docker CLI would use (endpoint.py; base_url overrides
        it) and check it answers (one request: the API version negotiation, which doubles as
        the ping). Raises EngineUnavailable with a message that says how to start an engine."""
        endpoint = resolve(base_url=base_url)
        address = endpoint.host
        socket_path = endpoint.unix_socket
        if socket_path is not None:
            answers = readahead.take(socket_path, timeout) if base_url is None else None
            if answers is not None:  # cli.py started it: the ping and lists are read
                client = cls(
                    None,
                    address,
                    raw=answers.raw,
                    endpoint=endpoint,
                    api_version=answers.version,
                    max_pool_size=max_pool_size,
                )
                client._read_ahead = answers.lists
                return client
            raw = UnixHTTP(socket_path, timeout=timeout)
            try:
                version = raw.api_version()
            except (TransportError, HTTPStatusError, KeyError, TypeError) as exc:
                raw.close()
                raise EngineUnavailable(
                    f"cannot reach the Docker engine at {address}: {exc}. {SETUP_HINT}"
                ) from exc
            return cls(
                None,
                address,
                raw=raw,
                endpoint=endpoint,
                api_version=version,
                max_pool_size=max_pool_size,
            )
        import docker

        try:
            kwargs = sdk_kwargs(endpoint)
        except docker.errors.DockerException as exc:  # bad TLS files
            raise EngineUnavailable(f"invalid Docker client TLS settings: {exc}") from exc
        try:
            api = docker.APIClient(  # a placeholder version: no request yet
                version=docker.constants.MINIMUM_DOCKER_API_VERSION,
                timeout=timeout,
                max_pool_size=max_pool_size,
                **kwargs,
            )
            keep_tls_verify(api)
            # What version="auto" does: ask the engine for its API version (the ping).
            api._version = api._retrieve_server_version()
        except Exception as exc:  # DockerException, requests/urllib3 errors, OSError
            cause = root_cause(exc)
            raise EngineUnavailable(
                f"cannot reach the Docker engine at {address}: {cause}. {SETUP_HINT}"
            ) from exc
        return cls(api, address, endpoint=endpoint, max_pool_size=max_pool_size)

    @property
    def _api(self) -> Any:
        """The SDK's `docker.APIClient`, made (and the SDK imported) on first use."""
        api = self._sdk
        if api is None:
            with self._sdk_lock:
                if self._sdk is None:
                    import docker

                    assert self._raw is not None
                    sdk = docker.APIClient(
                        base_url=self._endpoint.host,
                        version=self._version,  # known from the ping: no API call here
                        timeout=self._raw.timeout,
                        max_pool_size=self._max_pool_size,
                    )
                    self._install_call_counter(sdk)
                    self._sdk = sdk
                api = self._sdk
        return api

    @property
    def sdk_loaded(self) -> bool:
        """Whether the SDK client has been made (tests: the read path never makes it)."""
        return self._sdk is not None

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
        if self._sdk is not None:
            with contextlib.suppress(Exception):
                self._sdk.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- call counting --------------------------------------------------------------------
    def _count(self, mutating: bool = False) -> None:
        with self._calls_lock:
            self._calls += 1
            self._mutations += mutating

    def _install_call_counter(self, api: Any) -> None:
        send = api.send

        def counting_send(request: Any, **kwargs: Any) -> Any:
            self._count(request.method not in ("GET", "HEAD"))
            return send(request, **kwargs)

        # requests.Session.request() calls self.send(): an instance attribute shadows it.
        api.send = counting_send

    def _raw_get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """A counted GET on the raw path: /v<version><path>, decoded JSON."""
        assert self._raw is not None
        self._count()
        return self._raw.get_json(f"/v{self._version}{path}", params)

    @property
    def api_calls(self) -> int:
        """HTTP requests sent to the engine since connect (the version check excluded)."""
        with self._calls_lock:
            return self._calls

    @property
    def mutating_calls(self) -> int:
        """Requests other than GET/HEAD sent since connect: a no-op apply sends none."""
        with self._calls_lock:
            return self._mutations

    @property
    def api_version(self) -> str:
        return self._version if self._sdk is None else str(self._sdk.api_version)

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
        try:
            yield
        except HTTPStatusError as exc:  # the raw path
            raise status_error(action, exc.status, exc.explanation, conflict, not_found) from exc
        except TransportError as exc:
            if exc.timeout:
                raise timed_out(action, self.address) from exc
            raise lost(action, self.address, str(exc)) from exc
        except Exception as exc:
            # Only SDK calls raise SDK errors: no SDK client, no SDK import.
            error = sdk_error(exc, action, self.address, conflict, not_found) if self._sdk else None
            if error is None and isinstance(exc, ConnectionError):
                error = lost(action, self.address, root_cause(exc))
            if error is not None:
                raise error from exc
            raise

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
            lists, self._read_ahead = self._read_ahead, None
            if lists is not None:  # read ahead at start-up (readahead.py), taken once
                for _ in lists:
                    self._count()
                raw_containers, raw_images, raw_networks, raw_volumes = lists
            elif self._raw is not None:  # the same requests as the SDK calls below
                raw_containers, raw_images, raw_networks, raw_volumes = (
                    self._raw_get(path, params) for path, params in readahead.OBSERVE_LISTS
                )
            else:
                raw_containers = self._api.containers(all=True)
                raw_images = self._api.images()
                # Unfiltered (same number of calls): externals and name clashes matter too.
                raw_networks = self._api.networks()
                raw_volumes = self._api.volumes()

        owned: list[ObservedContainer] = []
        foreign: dict[str, str] = {}
        compose: list[ObservedContainer] = []  # created by Compose for this project's name
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
                if compose_container(labels, project):  # adopted or held, never a clash
                    compose.append(compose_observed(raw, name, labels))

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
            foreign_ports=foreign_ports(
                raw_containers, lambda labels: owned_or_adopted(labels, project)
            ),
            compose_containers=tuple(sorted(compose, key=lambda c: (c.key, c.replica, c.name))),
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
