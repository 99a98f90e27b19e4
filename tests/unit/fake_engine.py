"""A hand-written, in-memory stand-in for engine.Engine, for executor tests without Docker.

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
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Conflict, NotFound
from reconciler.model import spec as S
from reconciler.model.state import ObservedContainer, ObservedImage, State

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
        return self.labels.get(S.LABEL_NAME, "")


class FakeEngine:
    def __init__(self, images: dict[str, str] | None = None) -> None:
        self.images: dict[str, str] = dict(images or {})  # reference -> image id
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
        owned, foreign = [], {}
        with self._lock:
            for c in self.containers.values():
                if c.labels.get(S.LABEL_PROJECT) != project:
                    foreign[c.name] = c.id
                    continue
                text = c.labels.get(S.LABEL_CONFIG)
                owned.append(
                    ObservedContainer(
                        id=c.id,
                        name=c.name,
                        project=project,
                        key=c.key,
                        replica=int(c.labels.get(S.LABEL_REPLICA, "0")),
                        status=c.status,
                        health=self._health(c, advance=False),
                        exit_code=c.exit_code if c.status == "exited" else None,
                        image=c.config.get("image", ""),
                        image_id=c.config.get("image_id") or "",
                        config_hash=c.labels.get(S.LABEL_CONFIG_HASH),
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

    def create_container(self, config, labels, carry_volumes=None, **names) -> str:
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
            self.create_kwargs[name] = {"carry": dict(carry_volumes or {}), **names}
        return cid

    def start_container(self, cid: str) -> None:
        self._call("start", self._name_of(cid))
        with self._lock:
            c = self._get(cid)
            if c.name in self.exits:  # one-shot: a restored old container starts normally
                c.status, c.exit_code = "exited", self.exits.pop(c.name)
            else:
                c.status, c.exit_code = "running", None
                c.health_seq = list(self.health.pop(c.name, ["healthy"]))

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

    def exec_run(self, cid: str, cmd: list[str], **kw) -> tuple[int, str]:
        with self._lock:
            c = self._get(cid)
            name = c.name
        self._call("exec", name)
        with self._lock:
            if c.status != "running":
                raise Conflict(f"container {name} is not running")
            c.execs.append(list(cmd))
        return self.exec_results.get((name, cmd[0]), (0, ""))

    def anonymous_volumes(self, cid: str) -> dict[str, str]:
        self._call("anonymous_volumes", self._name_of(cid))
        with self._lock:
            c = self._get(cid)
            return {t: v for t, v in c.volumes.items() if v.startswith("anon-")}

    def changed_paths(self, cid: str, limit: int = 5) -> tuple[int, list[str]]:
        return 0, []

    def image_id(self, reference: str) -> str | None:
        return self.images.get(reference)

    def pull(self, reference: str, progress=None) -> str:
        self._call("pull", reference)
        with self._lock:
            self.images[reference] = self.pull_ids.get(
                reference, self.images.get(reference, "sha256:" + "f" * 64)
            )
            return self.images[reference]
