"""The engine adapter: the only module that imports the Docker SDK.

Callers (executor.py, cli.py, watch/) get plain values (state.py) and the project's own
exceptions (errors.py): every docker.errors.* is translated here. Observing a project costs a
constant number of API calls whatever the number of containers (filtered lists, no inspect).
A container that vanishes between list and action is not an error for stop/remove.

CONTRACT (signatures are fixed, callers rely on them; new methods and optional keyword
arguments may be added):

- `Engine.connect()` -> Engine; `close()`.
- `observe(project)` -> State in 4 API calls (containers, images, networks, volumes lists).
- containers: `create_container`, `start_container`, `stop_container`, `remove_container`,
  `rename_container`, `inspect_container`, `exec_run`, `changed_paths`, `anonymous_volumes`,
  `list_containers_by_label`.
- images: `pull`, `image_id`, `remove_image`, `inspect_image`, `image_users`, `build`,
  `commit`, `create_helper_container` (a commit recipe's work container).
- networks and volumes: `create_network`, `remove_network`, `create_volume`, `remove_volume`,
  `network_attachments`, `connect_network`, `disconnect_network`.
- logs and interactive exec: `logs` (byte stream), `exec_attach` (ExecSession).
- `events(filters, since, until)`.
- `api_calls`: the number of HTTP requests sent to the engine so far (thread-safe counter);
  tests and benchmarks read it to prove that observe costs a constant number of calls.

The SDK is imported lazily (in `connect()`) so that the CLI starts fast; only the low-level
`docker.APIClient` is used, never the high-level objects that re-inspect.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from reconciler.errors import Conflict, EngineError, EngineUnavailable, ImageError, NotFound
from reconciler.model import spec as _spec
from reconciler.model.state import (
    ObservedContainer,
    ObservedImage,
    ObservedNetwork,
    ObservedVolume,
    State,
)

ProgressFn = Callable[[dict[str, Any]], None]  # receives raw progress/stream events

_NS = 1_000_000_000
_ANONYMOUS_VOLUME_NAME = re.compile(r"^[0-9a-f]{64}$")
_EXIT_CODE = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")
_PORT_ALLOCATED = re.compile(r"Bind for (\S+?):(\d+) failed: port is already allocated")
_ADDRESS_IN_USE = re.compile(r"listen \w+ (\S+?):(\d+): bind: address already in use")
_NEVER = "0001-01-01T00:00:00Z"
_SETUP_HINT = "Start dockerd (e.g. `bash scripts/engine-setup.sh`) or set DOCKER_HOST."


class Engine:
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
    ) -> Engine:
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

    def __enter__(self) -> Engine:
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
            name = _container_name(raw)
            labels = raw.get("Labels") or {}
            image_id = raw.get("ImageID") or ""
            if image_id:
                users.setdefault(image_id, []).append(name)
            if owned_container(labels, project):
                owned.append(_observed_container(raw, name, labels))
            else:
                foreign[name] = raw.get("Id", "")

        images: dict[str, ObservedImage] = {}
        project_images: list[ObservedImage] = []
        for raw in raw_images:
            image = _observed_image(raw)
            for ref in (*image.tags, *(raw.get("RepoDigests") or ())):
                if "<none>" not in ref:
                    images[ref] = image
            if image.labels.get(_spec.LABEL_PROJECT) == project:
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
            ours = network.labels.get(_spec.LABEL_PROJECT) == project
            (networks if ours else other_networks)[network.name] = network
        volumes: dict[str, ObservedVolume] = {}
        other_volumes: dict[str, ObservedVolume] = {}
        for v in (raw_volumes or {}).get("Volumes") or ():
            volume = ObservedVolume(
                name=v["Name"],
                driver=v.get("Driver") or "local",
                labels=dict(v.get("Labels") or {}),
            )
            ours = volume.labels.get(_spec.LABEL_PROJECT) == project
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

    def list_containers_by_label(self, label_filter: str | list[str]) -> list[ObservedContainer]:
        """Every container (running or not) matching a label filter ("key" or "key=value",
        or a list of them, all of which must match): one list call."""
        with self._translate(f"list containers labelled {label_filter}"):
            raw = self._api.containers(all=True, filters={"label": label_filter})
        result = []
        for item in raw:
            result.append(
                _observed_container(item, _container_name(item), item.get("Labels") or {})
            )
        return result

    # --- containers -------------------------------------------------------------------------
    def create_container(
        self,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        carry_volumes: Mapping[str, str] | None = None,
        *,
        volume_names: Mapping[str, str] | None = None,
        network_names: Mapping[str, str] | None = None,
    ) -> str:
        """Create (not start) a container from a normalised config (spec.container_config):
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
            created = self._api.create_container_from_config(body, name=name)
        container_id = created["Id"]
        for network, aliases in networks[1:]:
            try:
                with self._translate(f"cannot connect container {name} to network {network}"):
                    self._api.connect_container_to_network(
                        container_id, network, aliases=aliases or None
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
        state = raw.get("State") or {}
        health = (state.get("Health") or {}).get("Status") or None
        started = state.get("StartedAt") or None
        finished = state.get("FinishedAt") or None
        return {
            "id": raw.get("Id", ""),
            "name": (raw.get("Name") or "").lstrip("/"),
            "status": state.get("Status", ""),
            "health": health if health in ("starting", "healthy", "unhealthy") else None,
            "exit_code": state.get("ExitCode"),
            "running": bool(state.get("Running")),
            "started_at": None if started == _NEVER else started,
            "finished_at": None if finished == _NEVER else finished,
            "restart_count": raw.get("RestartCount", 0),
            "error": state.get("Error") or None,
            "image_id": raw.get("Image", ""),
            "labels": dict((raw.get("Config") or {}).get("Labels") or {}),
        }

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
        paths = [c.get("Path", "") for c in changes]
        return len(paths), paths[: max(0, limit)]

    def anonymous_volumes(self, container_id: str) -> dict[str, str]:
        """Target path -> volume name for the container's anonymous volumes (to carry over):
        volumes with an engine-generated name (anonymous mounts, image VOLUMEs, and volumes
        carried over before) and volumes at the config label's anonymous targets."""
        with self._translate(f"cannot inspect container {container_id}"):
            raw = self._api.inspect_container(container_id)
        labels = (raw.get("Config") or {}).get("Labels") or {}
        config = _parse_config(labels.get(_spec.LABEL_CONFIG))
        anonymous_targets = {
            m.get("target")
            for m in ((config or {}).get("volumes") or ())
            if isinstance(m, Mapping) and m.get("kind") == "anonymous"
        }
        result = {}
        for mount in raw.get("Mounts") or ():
            if mount.get("Type") != "volume" or not mount.get("Name"):
                continue
            target = mount.get("Destination", "")
            if _ANONYMOUS_VOLUME_NAME.match(mount["Name"]) or target in anonymous_targets:
                result[target] = mount["Name"]
        return result

    # --- images -----------------------------------------------------------------------------
    def pull(self, reference: str, progress: ProgressFn | None = None) -> str:
        """Pull and return the image id; errors hidden in the stream raise ImageError."""
        from docker.utils import parse_repository_tag

        repository, tag = parse_repository_tag(reference)
        if not tag:
            tag = "latest"
        action = f"cannot pull {reference}"
        try:
            with self._translate(action):
                stream = self._api.pull(repository, tag=tag, stream=True, decode=True)
                for event in stream:
                    if not isinstance(event, dict):
                        continue
                    if event.get("error") or event.get("errorDetail"):
                        detail = event.get("errorDetail") or {}
                        cause = event.get("error") or detail.get("message") or str(detail)
                        raise ImageError(f"{action}: {_pull_cause(cause)}")
                    if progress is not None:
                        progress(event)
        except ImageError:
            raise
        except EngineUnavailable:
            raise
        except EngineError as exc:
            cause = str(exc).removeprefix(f"{action}: ")
            raise ImageError(f"{action}: {_pull_cause(cause)}") from exc
        image = self.image_id(reference)
        if image is None:
            raise ImageError(f"{action}: the engine reported no error but has no such image")
        return image

    def image_id(self, reference: str) -> str | None:
        try:
            with self._translate(f"cannot inspect image {reference}"):
                return self._api.inspect_image(reference)["Id"]
        except NotFound:
            return None

    def remove_image(self, image: str, force: bool = False) -> None:
        """Remove one image (reference: untag; id: delete). Gone is fine; in use -> Conflict."""
        action = f"cannot remove image {image}"
        with contextlib.suppress(NotFound), self._translate(action):
            self._api.remove_image(image, force=force, noprune=False)

    def inspect_image(self, reference: str) -> dict[str, Any] | None:
        """{'id', 'tags', 'labels', 'cmd', 'entrypoint', 'env', 'workdir', 'user',
        'exposed_ports', 'parent'} of an image (reference or id); None when absent."""
        try:
            with self._translate(f"cannot inspect image {reference}"):
                raw = self._api.inspect_image(reference)
        except NotFound:
            return None
        config = raw.get("Config") or {}
        return {
            "id": raw.get("Id", ""),
            "tags": [t for t in raw.get("RepoTags") or () if "<none>" not in t],
            "labels": dict(config.get("Labels") or {}),
            "cmd": config.get("Cmd"),
            "entrypoint": config.get("Entrypoint"),
            "env": list(config.get("Env") or ()),
            "workdir": config.get("WorkingDir") or "",
            "user": config.get("User") or "",
            "exposed_ports": sorted((config.get("ExposedPorts") or {}).keys()),
            "parent": raw.get("Parent") or "",
        }

    def image_users(self, image_id: str) -> list[str]:
        """Names of every container (any owner, running or not) created from exactly this
        image: one filtered list call."""
        with self._translate(f"cannot list the containers of image {image_id}"):
            raw = self._api.containers(all=True, filters={"ancestor": image_id})
        return sorted(_container_name(r) for r in raw if r.get("ImageID") == image_id)

    def build(
        self,
        context: Any,
        tag: str,
        *,
        dockerfile: str = "Dockerfile",
        buildargs: Mapping[str, str] | None = None,
        target: str | None = None,
        labels: Mapping[str, str] | None = None,
        progress: ProgressFn | None = None,
    ) -> str:
        """Build `tag` from an uncompressed tar of the context (a file object) with the
        engine's classic builder; returns the image id. Never pulls (pull=False: the caller
        makes sure every FROM image is present). Each decoded stream event goes to `progress`.
        A failing step raises ImageError naming the step and the tail of its output."""
        action = f"cannot build {tag}"
        state = _BuildLog()
        image_id: str | None = None
        try:
            with self._translate(action):
                stream = self._api.build(
                    fileobj=context,
                    custom_context=True,
                    tag=tag,
                    dockerfile=dockerfile,
                    buildargs=dict(buildargs or {}),
                    target=target or None,
                    labels=dict(labels or {}),
                    rm=True,
                    forcerm=True,
                    pull=False,
                    decode=True,
                    use_config_proxy=False,
                )
                for event in stream:
                    if not isinstance(event, dict):
                        continue
                    if event.get("error") or event.get("errorDetail"):
                        detail = event.get("errorDetail") or {}
                        cause = event.get("error") or detail.get("message") or str(detail)
                        raise ImageError(state.failure(action, str(cause)))
                    text = event.get("stream")
                    if isinstance(text, str):
                        state.feed(text)
                    aux = event.get("aux")
                    if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
                        image_id = aux["ID"]
                    if progress is not None:
                        progress(event)
        except (ImageError, EngineUnavailable):
            raise
        except EngineError as exc:
            cause = str(exc).removeprefix(f"{action}: ")
            raise ImageError(state.failure(action, cause)) from exc
        image_id = image_id or self.image_id(tag)
        if image_id is None:
            raise ImageError(f"{action}: the engine reported no error but has no such image")
        return image_id

    def create_helper_container(self, image: str, name: str, entrypoint: list[str]) -> str:
        """Create (not start) a bare container of `image` running `entrypoint` with an empty
        CMD and no labels (a commit recipe's work container: nothing of it may leak into the
        committed image's config). Name in use -> Conflict; image missing -> NotFound."""
        body = {
            "Image": image,
            "Entrypoint": list(entrypoint),
            "Cmd": [],
            "Labels": {},
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "Tty": False,
            "OpenStdin": False,
            "HostConfig": {},
        }
        action = f"cannot create container {name}"
        with self._translate(
            action,
            conflict=lambda e: f"{action}: the name {name} is already in use ({e})",
            not_found=lambda e: f"{action}: image {image} not found ({e})",
        ):
            return self._api.create_container_from_config(body, name=name)["Id"]

    def commit(self, container_id: str, reference: str, conf: Mapping[str, Any]) -> str:
        """Commit a container as `reference` with the image config `conf` (Engine API
        ContainerConfig: Cmd, Entrypoint, Env, WorkingDir, ExposedPorts, User, Labels; fields
        left out are taken from the container). Returns the new image id."""
        from docker.utils import parse_repository_tag

        repository, tag = parse_repository_tag(reference)
        with self._translate(f"cannot commit {reference}"):
            result = self._api.commit(
                container_id, repository=repository, tag=tag or "latest", conf=dict(conf)
            )
        return str(result["Id"])

    # --- networks and volumes --------------------------------------------------------------
    def create_network(
        self,
        name: str,
        driver: str = "bridge",
        labels: Mapping[str, str] | None = None,
        internal: bool = False,
        subnet: str | None = None,
    ) -> str:
        """Create a network; returns its id. Name in use -> Conflict."""
        from docker.types import IPAMConfig, IPAMPool

        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)]) if subnet else None
        action = f"cannot create network {name}"
        with self._translate(action):
            created = self._api.create_network(
                name,
                driver=driver,
                labels=dict(labels or {}),
                internal=internal,
                ipam=ipam,
                check_duplicate=True,
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

    # --- logs and interactive exec ------------------------------------------------------------
    def logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        timestamps: bool = False,
    ) -> _ByteStream:
        """A container's stdout and stderr as byte chunks (not split into lines). The stream
        has a `close()` that ends it (from another thread too)."""
        with self._translate(
            f"cannot read the logs of container {container_id}",
            not_found=lambda e: f"container {container_id} not found ({e})",
        ):
            stream = self._api.logs(
                container_id,
                stdout=True,
                stderr=True,
                stream=True,
                follow=follow,
                timestamps=timestamps,
                tail="all" if tail is None else max(0, int(tail)),
            )
        return _ByteStream(self, stream, f"lost the logs of container {container_id}")

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
    ) -> ExecSession:
        """Start a command in a running container and attach to it (`docker exec [-it]`).
        Not running -> Conflict; gone -> NotFound. Read output with `ExecSession.frames()`,
        then `exit_code()`."""
        action = f"cannot exec {' '.join(cmd)!r} in container {container_id}"
        with self._translate(action):
            created = self._api.exec_create(
                container_id,
                cmd,
                stdout=True,
                stderr=True,
                stdin=stdin,
                tty=tty,
                user=user,
                workdir=workdir,
                environment=dict(env) if env else None,
            )
            sock = self._api.exec_start(created["Id"], tty=tty, socket=True)
        # An interactive session may be silent for long: no read timeout on its socket.
        with contextlib.suppress(Exception):
            self._api._disable_socket_timeout(sock)
        return ExecSession(self, created["Id"], sock, tty)

    # --- events -----------------------------------------------------------------------------
    def events(
        self,
        filters: Mapping[str, Any] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Decoded engine events (blocking iterator); used by watch and the tests.
        The iterator has a `close()` that ends it (from another thread too); losing the
        engine while iterating raises EngineUnavailable, like every other call."""
        with self._translate("cannot follow engine events"):
            stream = self._api.events(
                since=_event_time(since),
                until=_event_time(until),
                filters=dict(filters) if filters else None,
                decode=True,
            )
        return _EventStream(self, stream)


class _EventStream:
    """The SDK's cancellable event stream with engine errors translated."""

    def __init__(self, engine: Engine, stream: Any) -> None:
        self._engine = engine
        self._stream = stream
        self._closed = False

    def __iter__(self) -> _EventStream:
        return self

    def __next__(self) -> dict[str, Any]:
        try:
            with self._engine._translate("lost the engine's event stream"):
                return next(self._stream)
        except StopIteration:
            raise
        except Exception:
            if self._closed:  # close() from another thread breaks the read: a normal end
                raise StopIteration from None
            raise

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self._stream.close()


class _ByteStream(_EventStream):
    """A cancellable stream of byte chunks (logs) with engine errors translated."""

    def __init__(self, engine: Engine, stream: Any, action: str) -> None:
        super().__init__(engine, stream)
        self._action = action

    def __next__(self) -> bytes:  # type: ignore[override]
        try:
            with self._engine._translate(self._action):
                return next(self._stream)
        except StopIteration:
            raise
        except Exception:
            if self._closed:
                raise StopIteration from None
            raise


class ExecSession:
    """An attached `exec`: output frames, stdin, resize and the exit code (engine.exec_attach)."""

    STDOUT = 1
    STDERR = 2

    def __init__(self, engine: Engine, exec_id: str, sock: Any, tty: bool) -> None:
        self._engine = engine
        self.exec_id = exec_id
        self.socket = sock
        self.tty = tty

    def fileno(self) -> int:
        return self.socket.fileno()

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(stream, data) until the command ends: stream 1 is stdout, 2 stderr (a TTY session
        has one stream, reported as stdout)."""
        from docker.utils.socket import frames_iter

        with self._engine._translate(f"lost exec {self.exec_id[:12]}"):
            for stream, data in frames_iter(self.socket, self.tty):
                if data:
                    yield (stream or self.STDOUT), data

    def read_some(self, n: int = 4096) -> bytes:
        """Raw bytes (TTY sessions): b'' at the end."""
        from docker.utils.socket import read

        with self._engine._translate(f"lost exec {self.exec_id[:12]}"):
            return read(self.socket, n) or b""

    def send(self, data: bytes) -> None:
        getattr(self.socket, "_sock", self.socket).sendall(data)

    def close_stdin(self) -> None:
        import socket as pysocket

        with contextlib.suppress(OSError):
            getattr(self.socket, "_sock", self.socket).shutdown(pysocket.SHUT_WR)

    def resize(self, height: int, width: int) -> None:
        with (
            contextlib.suppress(EngineError),
            self._engine._translate(f"cannot resize exec {self.exec_id[:12]}"),
        ):
            self._engine._api.exec_resize(self.exec_id, height=height, width=width)

    def exit_code(self) -> int:
        """The command's exit code (-1 when the engine does not know it)."""
        with self._engine._translate(f"cannot inspect exec {self.exec_id[:12]}"):
            code = self._engine._api.exec_inspect(self.exec_id).get("ExitCode")
        return code if code is not None else -1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.socket.close()


# --- translation helpers (pure; unit-testable without an engine) ------------------------------


def container_create_body(
    config: Mapping[str, Any],
    labels: Mapping[str, str],
    carry_volumes: Mapping[str, str] | None = None,
    *,
    volume_names: Mapping[str, str] | None = None,
    network_names: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[tuple[str, list[str]]]]:
    """The POST /containers/create body for a normalised config, and the (network, aliases)
    attachments in order (the first is set at create, the others are connected after)."""
    volume_names = volume_names or {}
    network_names = network_names or {}
    carry = dict(carry_volumes or {})

    exposed: dict[str, dict] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in config.get("ports") or ():
        key = f"{port['container_port']}/{port.get('protocol') or 'tcp'}"
        exposed[key] = {}
        host_port = port.get("host_port")
        bindings.setdefault(key, []).append(
            {
                "HostIp": port.get("host_ip") or "",
                "HostPort": "" if host_port is None else str(host_port),
            }
        )

    mounts: list[dict[str, Any]] = []
    targets: set[str] = set()
    for volume in config.get("volumes") or ():
        target = volume["target"]
        kind = volume.get("kind") or "volume"
        mount: dict[str, Any] = {
            "Target": target,
            "ReadOnly": bool(volume.get("read_only")),
        }
        if kind == "bind":
            mount.update(Type="bind", Source=volume["source"])
        elif kind == "anonymous" or not volume.get("source"):
            mount["Type"] = "volume"
            if target in carry:
                mount["Source"] = carry[target]
        else:
            mount.update(Type="volume", Source=volume_names.get(volume["source"], volume["source"]))
        targets.add(target)
        mounts.append(mount)
    # Anonymous volumes the old container had that the config does not mention (an image's
    # VOLUME): carried over too, as `docker compose` does.
    for target, name in sorted(carry.items()):
        if target not in targets:
            mounts.append({"Type": "volume", "Source": name, "Target": target, "ReadOnly": False})

    restart = config.get("restart") or {}
    restart_name = restart.get("name") or "no"
    host_config: dict[str, Any] = {
        "PortBindings": bindings,
        "Mounts": mounts,
        "RestartPolicy": {
            "Name": "" if restart_name == "no" else restart_name,
            "MaximumRetryCount": int(restart.get("max_retries") or 0)
            if restart_name == "on-failure"
            else 0,
        },
    }
    if config.get("init"):
        host_config["Init"] = True

    networks = [
        (network_names.get(n["network"], n["network"]), list(n.get("aliases") or ()))
        for n in config.get("networks") or ()
    ]
    body: dict[str, Any] = {
        "Image": config["image"],
        "Env": [f"{k}={v}" for k, v in (config.get("env") or {}).items()],
        "ExposedPorts": exposed,
        "Labels": {**(config.get("labels") or {}), **labels},
        "HostConfig": host_config,
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": False,
        "OpenStdin": False,
    }
    if config.get("command") is not None:
        body["Cmd"] = list(config["command"])
    if config.get("entrypoint") is not None:
        body["Entrypoint"] = list(config["entrypoint"])
    if config.get("workdir"):
        body["WorkingDir"] = config["workdir"]
    if config.get("user"):
        body["User"] = config["user"]
    if config.get("hostname"):
        body["Hostname"] = config["hostname"]
    if config.get("stop_timeout") is not None:
        body["StopTimeout"] = max(0, math.ceil(config["stop_timeout"]))
    healthcheck = config.get("healthcheck")
    if healthcheck:
        body["Healthcheck"] = _healthcheck(healthcheck)
    if networks:
        first, aliases = networks[0]
        host_config["NetworkMode"] = first
        endpoint: dict[str, Any] = {"Aliases": aliases} if aliases else {}
        body["NetworkingConfig"] = {"EndpointsConfig": {first: endpoint}}
    return body, networks


def _healthcheck(healthcheck: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"Test": list(healthcheck.get("test") or ())}
    for field, key in (("interval", "Interval"), ("timeout", "Timeout")):
        if healthcheck.get(field) is not None:
            result[key] = round(healthcheck[field] * _NS)
    if healthcheck.get("start_period") is not None:
        result["StartPeriod"] = round(healthcheck["start_period"] * _NS)
    if healthcheck.get("retries") is not None:
        result["Retries"] = int(healthcheck["retries"])
    return result


def owned_container(labels: Mapping[str, str], project: str) -> bool:
    """A container of `project`: its labels name the project and it is a container. A
    container someone creates from an image the project built inherits the image's labels
    (kind `image`): it is not the project's and is never changed or removed."""
    if labels.get(_spec.LABEL_PROJECT) != project:
        return False
    return labels.get(_spec.LABEL_KIND, "container") == "container"


def _container_name(raw: Mapping[str, Any]) -> str:
    names = raw.get("Names") or []
    # Legacy links add names like "/other/alias": the container's own has one slash.
    for name in names:
        if name.count("/") <= 1:
            return name.lstrip("/")
    return names[0].lstrip("/") if names else raw.get("Id", "")[:12]


def _observed_container(
    raw: Mapping[str, Any], name: str, labels: Mapping[str, str]
) -> ObservedContainer:
    status_text = raw.get("Status") or ""
    state = raw.get("State") or ""
    if isinstance(state, Mapping):  # very old engines
        state = state.get("Status", "")
    config = _parse_config(labels.get(_spec.LABEL_CONFIG))
    image = (config or {}).get("image") if config else None
    return ObservedContainer(
        id=raw.get("Id", ""),
        name=name,
        project=labels.get(_spec.LABEL_PROJECT, ""),
        key=labels.get(_spec.LABEL_NAME, ""),
        replica=_int(labels.get(_spec.LABEL_REPLICA)),
        status=state,
        health=parse_health(status_text),
        exit_code=parse_exit_code(status_text),
        image=image if isinstance(image, str) and image else raw.get("Image", ""),
        image_id=raw.get("ImageID") or "",
        config_hash=labels.get(_spec.LABEL_CONFIG_HASH),
        config=config,
        labels=dict(labels),
        ports=format_ports(raw.get("Ports") or ()),
        created=int(raw.get("Created") or 0),
    )


def _observed_image(raw: Mapping[str, Any]) -> ObservedImage:
    tags = tuple(t for t in raw.get("RepoTags") or () if t and "<none>" not in t)
    return ObservedImage(
        id=raw.get("Id", ""),
        tags=tags,
        labels=dict(raw.get("Labels") or {}),
        created=int(raw.get("Created") or 0),
    )


def parse_health(status: str) -> str | None:
    """Health from the list's Status text: "Up 3 minutes (healthy)" -> "healthy"."""
    if "(health: starting)" in status:
        return "starting"
    if "(unhealthy)" in status:
        return "unhealthy"
    if "(healthy)" in status:
        return "healthy"
    return None


def parse_exit_code(status: str) -> int | None:
    """ "Exited (137) 2 seconds ago" -> 137; None when the text carries no exit code."""
    match = _EXIT_CODE.match(status)
    return int(match.group(1)) if match else None


def format_ports(ports: Any) -> tuple[str, ...]:
    """The list's Ports for display, like `docker ps`: "127.0.0.1:8080->80/tcp", "80/tcp"."""
    result: list[str] = []
    for port in ports:
        private = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
        if port.get("PublicPort"):
            ip = port.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip else ip
            text = f"{host}:{port['PublicPort']}->{private}"
        else:
            text = private
        if text not in result:
            result.append(text)
    return tuple(sorted(result))


def _parse_config(text: str | None) -> Mapping[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _int(text: str | None) -> int:
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


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


_BUILD_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # the builder paints a step's stderr red
_BUILD_NOISE = re.compile(
    r"^ ---> |^Removing intermediate container |^Successfully (built|tagged) "
)


class _BuildLog:
    """Follows a classic-builder stream: the current step and the last lines of its output,
    for the error message of a failing build."""

    TAIL = 10

    def __init__(self) -> None:
        self.step: str | None = None  # "3/5 RUN make"
        self.tail: list[str] = []
        self._partial = ""

    def feed(self, text: str) -> None:
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            line = _ANSI.sub("", line).rstrip("\r")
            match = _BUILD_STEP.match(line)
            if match:
                self.step = f"{match.group(1)}/{match.group(2)} {match.group(3)}"
                self.tail = []
            elif line.strip() and not _BUILD_NOISE.match(line):
                self.tail = [*self.tail, line][-self.TAIL :]

    def failure(self, action: str, cause: str) -> str:
        if self._partial.strip():
            self.feed("\n")
        where = f" at step {self.step}" if self.step else ""
        message = f"{action}: failed{where}: {cause.strip()}"
        if self.tail:
            message += "\n" + "\n".join(f"    | {line}" for line in self.tail)
        return message


def _pull_cause(cause: str) -> str:
    """Name the cause in words a user knows, keeping the engine's text."""
    lower = cause.lower()
    if "manifest unknown" in lower or ("manifest for" in lower and "not found" in lower):
        return f"no such image or tag in the registry ({cause})"
    if "repository does not exist" in lower or "name unknown" in lower:
        return f"no such repository in the registry ({cause})"
    if "unauthorized" in lower or "authentication required" in lower or "denied" in lower:
        return f"access denied: log in to the registry or check the name ({cause})"
    if (
        "connection refused" in lower
        or "no such host" in lower
        or "i/o timeout" in lower
        or "dial tcp" in lower
    ):
        return f"cannot reach the registry ({cause})"
    return cause


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


def _event_time(value: float | None) -> Any:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else f"{value:.9f}"
