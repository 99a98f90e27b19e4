"""A hand-written, in-memory stand-in for engine.Engine, for executor tests without Docker.

It implements the whole `EnginePort` (reconciler/engine/port.py); mypy checks that (the
`_check` assignment at the bottom): `mypy reconciler/engine/port.py tests/unit/fake_engine.py`.

It keeps containers (name, labels, status, health) and images, answers `observe()` with the
same State shape the real adapter builds from its labels, records every call in order
(thread-safe) and lets a test inject failures, slow calls and health sequences:

- `fail[(method, name)] = exc`: raise `exc` when `method` is called for container `name`
  (the name at create time, or the container's current name); `fail_once` is the same but
  only for the first call.
- `delay[method] = seconds`: the call sleeps (to observe parallelism).
- `health[name] = ["starting", "healthy"]`: successive health values reported by inspect for a
  running container with a healthcheck (the last one repeats; used by the next container
  started under that name); default "healthy".
- `exits[name] = code`: the next container started under `name` exits with `code` at once.
- `exec_results[(name, step0)] = (code, output)`: the result of an exec hook whose first word
  is `step0` (default (0, "")).

A container created under a hooks-pending name (`<name>--hooks-<token>`, execute/containers.py)
keeps that name in the fake's state (observe shows it), but calls are recorded and failures,
health and exits looked up under `<name>`, and the rename that completes it is not recorded.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar

from reconciler.engine.port import EnginePort, ProgressFn
from reconciler.errors import Conflict, EngineError, NotFound
from reconciler.model import labels as labels_mod
from reconciler.model.spec import BuildSpec, CommitChanges
from reconciler.model.state import ObservedContainer, ObservedImage, State
from reconciler.model.swarm import ObservedService, SwarmState

T = TypeVar("T")


def _base(name: str) -> str:
    """`<name>` of a hooks-pending `<name>--hooks-<token>`; any other name as it is."""
    return name.split(labels_mod.HOOKS_MARK, 1)[0]


MUTATING = ("create", "start", "stop", "remove", "rename")


@dataclass
class FakeContainer:
    id: str
    name: str
    labels: dict[str, str]
    config: dict[str, Any]
    status: str = "created"  # created | running | exited
    exit_code: int | None = None
    health_seq: list[str] = field(default_factory=list)
    volumes: dict[str, str] = field(default_factory=dict)  # target -> volume name
    execs: list[list[str]] = field(default_factory=list)
    created: int = 0

    @property
    def key(self) -> str:
        return self.labels.get(labels_mod.LABEL_NAME, "")


class FakeEngine:
    def __init__(self, images: dict[str, str] | None = None) -> None:
        self.networks: dict[str, dict[str, Any]] = {}  # name -> {"id", "driver", "labels"}
        self.volumes: dict[str, dict[str, Any]] = {}  # name -> {"driver", "labels"}
        self.leases: dict[str, tuple[str, dict[str, str]]] = {}  # name -> (id, labels)
        self.log_chunks: dict[str, list[bytes]] = {}  # container name -> what logs() yields
        self.event_queue: list[dict[str, Any]] = []  # what the next events() yields
        self.images: dict[str, str] = dict(images or {})  # reference -> image id
        self.registry_digests: dict[str, str] = {}  # reference -> the registry's digest
        self.containers: dict[str, FakeContainer] = {}  # id -> container
        self.calls: list[tuple[str, str]] = []  # (method, container name or reference)
        self.fail: dict[tuple[str, str], Exception] = {}
        self.fail_once: dict[tuple[str, str], Exception] = {}
        self.delay: dict[str, float] = {}
        self.health: dict[str, list[str]] = {}
        self.exits: dict[str, int] = {}
        self.exec_results: dict[tuple[str, str], tuple[int, str]] = {}
        self.pull_ids: dict[str, str] = {}  # reference -> id a pull makes it resolve to
        self.create_kwargs: dict[str, dict[str, Any]] = {}  # name -> carry and name maps
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        self.in_flight = 0
        self.max_in_flight = 0

    # --- helpers for tests ------------------------------------------------------------------
    def add(
        self,
        name: str,
        labels: dict[str, str],
        config: dict[str, Any],
        status: str = "running",
        exit_code: int | None = None,
    ) -> str:
        cid = self._new_id()
        self.containers[cid] = FakeContainer(
            cid, name, dict(labels), dict(config), status, exit_code, created=next(self._clock)
        )
        return cid

    def by_name(self, name: str) -> FakeContainer | None:
        return next((c for c in self.containers.values() if c.name == name), None)

    def names(self) -> set[str]:
        return {c.name for c in self.containers.values()}

    def mutations(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in MUTATING]

    def index(self, method: str, name: str) -> int:
        """Position of the first call of `method` for `name` (fails when absent)."""
        return self.calls.index((method, name))

    # --- internals --------------------------------------------------------------------------
    def _new_id(self) -> str:
        return f"{next(self._ids):012x}".ljust(64, "0")

    def _get(self, cid: str) -> FakeContainer:
        c = self.containers.get(cid)
        if c is None:
            raise NotFound(f"container {cid[:12]} not found")
        return c

    def _call(self, method: str, name: str) -> None:
        name = _base(name)
        with self._lock:
            self.calls.append((method, name))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay.get(method):
                time.sleep(self.delay[method])
        finally:
            with self._lock:
                self.in_flight -= 1
        key = (method, name)
        with self._lock:
            once = self.fail_once.pop(key, None)
        if once is not None:
            raise once
        if key in self.fail:
            raise self.fail[key]

    def _name_of(self, cid: str) -> str:
        c = self.containers.get(cid)
        return c.name if c else cid[:12]

    # --- the Engine contract used by the executor and reconcile ------------------------------
    def observe(self, project: str) -> State:
        self.calls.append(("observe", project))
        owned: list[ObservedContainer] = []
        foreign: dict[str, str] = {}
        with self._lock:
            for c in self.containers.values():
                if c.labels.get(labels_mod.LABEL_PROJECT) != project:
                    foreign[c.name] = c.id
                    continue
                text = c.labels.get(labels_mod.LABEL_CONFIG)
                owned.append(
                    ObservedContainer(
                        id=c.id,
                        name=c.name,
                        project=project,
                        key=c.key,
                        replica=int(c.labels.get(labels_mod.LABEL_REPLICA, "0")),
                        status=c.status,
                        health=self._health(c, advance=False),
                        exit_code=c.exit_code if c.status == "exited" else None,
                        image=c.config.get("image", ""),
                        image_id=c.config.get("image_id") or "",
                        config_hash=c.labels.get(labels_mod.LABEL_CONFIG_HASH),
                        config=json.loads(text) if text else None,
                        labels=dict(c.labels),
                        created=c.created,
                    )
                )
            images = {ref: ObservedImage(image_id, (ref,)) for ref, image_id in self.images.items()}
        return State(
            project=project,
            containers=tuple(sorted(owned, key=lambda c: (c.key, c.replica, c.name))),
            foreign_names=foreign,
            images=images,
        )

    def create_container(
        self,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        carry_volumes: Mapping[str, str] | None = None,
        *,
        volume_names: Mapping[str, str] | None = None,
        network_names: Mapping[str, str] | None = None,
    ) -> str:
        name = config["name"]
        self._call("create", name)
        with self._lock:
            if name in self.names():
                raise Conflict(f"cannot create container {name}: the name is already in use")
            if config["image"] not in self.images:
                raise NotFound(f"image {config['image']} not found")
            cid = self._new_id()
            volumes = {
                m["target"]: (m.get("source") or f"anon-{cid[:6]}-{m['target']}")
                for m in config.get("volumes") or ()
            }
            volumes.update(carry_volumes or {})
            self.containers[cid] = FakeContainer(
                cid,
                name,
                {**(config.get("labels") or {}), **labels},
                dict(config),
                volumes=volumes,
                created=next(self._clock),
            )
            self.create_kwargs[_base(name)] = {
                "carry": dict(carry_volumes or {}),
                "volume_names": volume_names,
                "network_names": network_names,
            }
        return cid

    def start_container(self, cid: str) -> None:
        self._call("start", self._name_of(cid))
        with self._lock:
            c = self._get(cid)
            base = _base(c.name)
            if base in self.exits:  # one-shot: a restored old container starts normally
                c.status, c.exit_code = "exited", self.exits.pop(base)
            else:
                c.status, c.exit_code = "running", None
                c.health_seq = list(self.health.pop(base, ["healthy"]))

    def stop_container(self, cid: str, timeout: float | None = None) -> None:
        self._call("stop", self._name_of(cid))
        with self._lock:
            c = self.containers.get(cid)
            if c is not None and c.status == "running":
                c.status, c.exit_code = "exited", 137

    def remove_container(self, cid: str, volumes: bool = False) -> None:
        self._call("remove", self._name_of(cid))
        with self._lock:
            self.containers.pop(cid, None)

    def rename_container(self, cid: str, new_name: str) -> None:
        if _base(self._name_of(cid)) != new_name or self._name_of(cid) == new_name:
            self._call("rename", f"{self._name_of(cid)}->{new_name}")
        with self._lock:
            c = self._get(cid)
            if new_name in self.names() and c.name != new_name:
                raise Conflict(f"cannot rename to {new_name}: the name is already in use")
            c.name = new_name

    def _health(self, c: FakeContainer, advance: bool) -> str | None:
        if not c.config.get("healthcheck") or c.status != "running":
            return None
        if not c.health_seq:
            return "healthy"
        value = c.health_seq[0]
        if advance and len(c.health_seq) > 1:
            c.health_seq.pop(0)
        return value

    def inspect_container(self, cid: str) -> dict[str, Any]:
        self._call("inspect", self._name_of(cid))
        with self._lock:
            c = self._get(cid)
            return {
                "id": c.id,
                "name": c.name,
                "status": c.status,
                "health": self._health(c, advance=True),
                "exit_code": c.exit_code if c.exit_code is not None else 0,
                "running": c.status == "running",
                "labels": dict(c.labels),
            }

    def exec_run(
        self, cid: str, cmd: list[str], *, user: str = "", workdir: str | None = None
    ) -> tuple[int, str]:
        with self._lock:
            c = self._get(cid)
            name = c.name
        self._call("exec", name)
        with self._lock:
            if c.status != "running":
                raise Conflict(f"container {name} is not running")
            c.execs.append(list(cmd))
        return self.exec_results.get((_base(name), cmd[0]), (0, ""))

    def anonymous_volumes(self, cid: str) -> dict[str, str]:
        self._call("anonymous_volumes", self._name_of(cid))
        with self._lock:
            c = self._get(cid)
            return {t: v for t, v in c.volumes.items() if v.startswith("anon-")}

    def changed_paths(self, cid: str, limit: int = 5) -> tuple[int, list[str]]:
        return 0, []

    def filesystem_changes(self, cid: str) -> list[tuple[str, str]]:
        return []

    def image_id(self, reference: str) -> str | None:
        return self.images.get(reference)

    def registry_digest(self, reference: str) -> str:
        self._call("registry_digest", reference)
        return self.registry_digests.get(reference, "")

    def pull(self, reference: str, progress: ProgressFn | None = None) -> str:
        self._call("pull", reference)
        with self._lock:
            self.images[reference] = self.pull_ids.get(
                reference, self.images.get(reference, "sha256:" + "f" * 64)
            )
            return self.images[reference]

    # --- the rest of the port: simple in-memory versions ------------------------------------
    def close(self) -> None:
        self.calls.append(("close", ""))

    # --- Swarm (target swarm): this fake is a plain engine, not a manager ----------------------
    def observe_swarm(self, project: str) -> SwarmState:
        raise EngineError("the fake engine is not a Swarm manager")

    def inspect_service(self, service_id: str) -> ObservedService:
        raise NotFound(f"no service {service_id}")

    def create_service(
        self, config: Mapping[str, Any], labels: Mapping[str, str], replicas: int, image: str
    ) -> str:
        raise EngineError("the fake engine is not a Swarm manager")

    def update_service(
        self,
        service_id: str,
        version: int,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        replicas: int,
        image: str,
    ) -> None:
        raise EngineError("the fake engine is not a Swarm manager")

    def scale_service(self, service_id: str, replicas: int) -> None:
        raise EngineError("the fake engine is not a Swarm manager")

    def remove_service(self, service_id: str) -> None:
        raise EngineError("the fake engine is not a Swarm manager")

    def service_leftovers(self, service_id: str) -> int:
        return 0

    def pinned_image(self, reference: str, push: bool = False) -> str:
        raise EngineError("the fake engine is not a Swarm manager")

    def list_containers_by_label(self, label_filter: str | list[str]) -> list[ObservedContainer]:
        wanted = [label_filter] if isinstance(label_filter, str) else list(label_filter)
        with self._lock:
            found = [
                c
                for c in self.containers.values()
                if all(_label_matches(c.labels, f) for f in wanted)
            ]
        return [
            ObservedContainer(
                id=c.id,
                name=c.name,
                project=c.labels.get(labels_mod.LABEL_PROJECT, ""),
                key=c.key,
                replica=int(c.labels.get(labels_mod.LABEL_REPLICA, "0")),
                status=c.status,
                health=None,
                exit_code=c.exit_code if c.status == "exited" else None,
                image=c.config.get("image", ""),
                image_id=c.config.get("image_id") or "",
                labels=dict(c.labels),
                created=c.created,
            )
            for c in found
        ]

    def remove_image(self, image: str, force: bool = False) -> None:
        self._call("remove_image", image)
        with self._lock:
            for ref in [r for r, i in self.images.items() if image in (r, i)]:
                del self.images[ref]

    def inspect_image(self, reference: str) -> dict[str, Any] | None:
        with self._lock:
            image_id = self.images.get(reference) or (
                reference if reference in self.images.values() else None
            )
            if image_id is None:
                return None
            tags = sorted(r for r, i in self.images.items() if i == image_id)
        return {
            "id": image_id,
            "tags": tags,
            "labels": {},
            "cmd": None,
            "entrypoint": None,
            "env": [],
            "workdir": "",
            "user": "",
            "exposed_ports": [],
            "parent": "",
        }

    def image_users(self, image_id: str) -> list[str]:
        with self._lock:
            return sorted(
                c.name for c in self.containers.values() if c.config.get("image_id") == image_id
            )

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
        self._call("build", tag)
        with self._lock:
            self.images[tag] = "sha256:" + self._new_id()
            return self.images[tag]

    buildkit = (None, "the fake engine has no docker CLI")  # tests set (path, "") to use it

    def buildkit_cli(self) -> tuple[str | None, str]:
        return self.buildkit

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
        self._call("build_buildkit", tag)
        with self._lock:
            self.images[tag] = "sha256:" + self._new_id()
            return self.images[tag]

    def create_helper_container(self, image: str, name: str, entrypoint: list[str]) -> str:
        return self.create_container({"name": name, "image": image}, {})

    def commit(
        self,
        container_id: str,
        reference: str,
        *,
        base: Mapping[str, Any],
        changes: CommitChanges,
        labels: Mapping[str, str],
    ) -> str:
        self._call("commit", reference)
        with self._lock:
            self._get(container_id)
            self.images[reference] = "sha256:" + self._new_id()
            return self.images[reference]

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
        self._call("create_network", name)
        with self._lock:
            if name in self.networks:
                raise Conflict(f"cannot create network {name}: network with name {name} exists")
            network_id = self._new_id()
            self.networks[name] = {"id": network_id, "driver": driver, "labels": dict(labels or {})}
            return network_id

    def remove_network(self, name: str) -> None:
        self._call("remove_network", name)
        with self._lock:
            self.networks.pop(name, None)

    def network_attachments(self, name: str) -> list[dict[str, Any]]:
        return []

    def connect_network(
        self, container_id: str, network: str, aliases: list[str] | None = None
    ) -> None:
        self._call("connect_network", f"{self._name_of(container_id)}->{network}")

    def disconnect_network(self, container_id: str, network: str) -> None:
        self._call("disconnect_network", f"{self._name_of(container_id)}->{network}")

    def create_volume(
        self,
        name: str,
        driver: str = "local",
        driver_opts: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> str:
        self._call("create_volume", name)
        with self._lock:
            self.volumes.setdefault(name, {"driver": driver, "labels": dict(labels or {})})
        return name

    def remove_volume(self, name: str) -> None:
        self._call("remove_volume", name)
        with self._lock:
            self.volumes.pop(name, None)

    def acquire_lease(self, name: str, labels: Mapping[str, str]) -> str | None:
        with self._lock:
            if name in self.leases:
                return None
            lease_id = self._new_id()
            self.leases[name] = (lease_id, dict(labels))
            return lease_id

    def lease_holder(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.leases.get(name)
            return {"id": found[0], "labels": dict(found[1])} if found else None

    def release_lease(self, lease_id: str) -> bool:
        with self._lock:
            for name, (held, _) in list(self.leases.items()):
                if held == lease_id:
                    del self.leases[name]
                    return True
            return False

    def volume_labels(self, name: str) -> dict[str, str] | None:
        with self._lock:
            volume = self.volumes.get(name)
            return dict(volume["labels"]) if volume is not None else None

    def logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        timestamps: bool = False,
    ) -> FakeStream[bytes]:
        with self._lock:
            name = self._get(container_id).name
            return FakeStream(list(self.log_chunks.get(name, [])))

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
    ) -> FakeExecSession:
        code, output = self.exec_run(container_id, cmd, user=user, workdir=workdir)
        return FakeExecSession(f"exec-{self._new_id()[:12]}", tty, code, output.encode())

    def events(
        self,
        filters: Mapping[str, Any] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> FakeStream[dict[str, Any]]:
        with self._lock:
            queued, self.event_queue = self.event_queue, []
        return FakeStream(queued)


def _label_matches(labels: Mapping[str, str], wanted: str) -> bool:
    key, eq, value = wanted.partition("=")
    return key in labels and (not eq or labels[key] == value)


class FakeStream(Generic[T]):
    """A finished stream of prepared items (events or log chunks)."""

    def __init__(self, items: list[T]) -> None:
        self._items = iter(items)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return next(self._items)

    def close(self) -> None:
        self._items = iter(())


class FakeExecSession:
    """An exec that already ran: its whole output is one stdout frame."""

    STDOUT = 1
    STDERR = 2

    def __init__(self, exec_id: str, tty: bool, code: int, output: bytes) -> None:
        self.exec_id = exec_id
        self.tty = tty
        self._code = code
        self._output = output
        self.sent = b""

    def fileno(self) -> int:
        return -1

    def frames(self) -> Iterator[tuple[int, bytes]]:
        if self._output:
            yield self.STDOUT, self._output

    def read_some(self, n: int = 4096) -> bytes:
        data, self._output = self._output[:n], self._output[n:]
        return data

    def send(self, data: bytes) -> None:
        self.sent += data

    def close_stdin(self) -> None:
        pass

    def resize(self, height: int, width: int) -> None:
        pass

    def exit_code(self) -> int:
        return self._code

    def close(self) -> None:
        pass


_check: EnginePort = FakeEngine()  # mypy: the fake implements the whole port
