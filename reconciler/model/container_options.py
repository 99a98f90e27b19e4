"""Value types of the container fields that spec v1 shares with Compose (issue 13): secrets and
configs, devices, ulimits, logging, deploy resources, network IPAM.

Inert frozen values, referenced by model/spec.py (ContainerSpec, NetworkSpec, Spec); built by
load/normalize/ (spec v1) and load/compose/ (Compose files); read by model/spec.container_config
(the config hash) and engine/translate.py (the create body). Sizes are bytes, CPU counts floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Location

SECRETS_DIR = "/run/secrets"  # a secret's default target folder (target = /run/secrets/NAME)
LOG_DRIVERS_LOCAL = ("json-file", "local", "none", "journald", "syslog")  # documentation only
NETWORK_MODES = ("bridge", "host", "none")  # plus container:NAME and service:KEY


@dataclass(frozen=True)
class FileSource:
    """One top-level `secrets:` or `configs:` entry. Exactly one of `file`, `environment`,
    `content` is set. Without Swarm it becomes a read-only bind mount of a file: the `file`
    itself, or (for `environment` and `content`) a file reconciler writes under its state
    folder, named by the content's digest."""

    key: str
    kind: str  # "secret" | "config"
    file: str | None = None  # absolute host path
    environment: str | None = None  # the variable's name (its value is `content`)
    content: str | None = None  # the value of `environment`, or inline `content` (configs)
    digest: str = ""  # sha256 hex of the content (file or value): a change replaces users
    host_path: str | None = None  # what is bind-mounted: `file`, or where `content` is written
    external: bool = False  # refused outside Swarm; kept so the error can name it
    location: Location | None = None


@dataclass(frozen=True)
class FileUse:
    """A container's use of a secret or config (`secrets:` / `configs:` in a container):
    `source` is the top-level key; `target` is absolute (default /run/secrets/SOURCE for
    secrets, /SOURCE for configs). uid/gid/mode are kept for Swarm; a bind mount ignores them,
    as Compose does."""

    source: str
    target: str
    uid: str | None = None
    gid: str | None = None
    mode: int | None = None


@dataclass(frozen=True)
class Device:
    """`devices:` entry "HOST[:CONTAINER[:PERMISSIONS]]" (permissions a subset of rwm)."""

    host: str
    container: str
    permissions: str = "rwm"

    def to_dict(self) -> dict[str, str]:
        return {"host": self.host, "container": self.container, "permissions": self.permissions}


@dataclass(frozen=True)
class Ulimit:
    """`ulimits: {nofile: {soft: 1024, hard: 2048}}` or `{nproc: 512}` (soft == hard)."""

    name: str
    soft: int
    hard: int


@dataclass(frozen=True)
class Logging:
    """`logging: {driver, options}`; driver None keeps the engine's default driver."""

    driver: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"driver": self.driver, "options": dict(sorted(self.options.items()))}


@dataclass(frozen=True)
class ResourceValues:
    """One side of `deploy.resources` (limits or reservations). Memory in bytes."""

    cpus: float | None = None
    memory: int | None = None
    pids: int | None = None  # limits only


@dataclass(frozen=True)
class DeployResources:
    """`deploy: {resources: {limits: {...}, reservations: {...}}}` (Compose's names). Only
    `resources` of Compose's `deploy` is honoured outside Swarm. The engine gets
    limits.cpus -> NanoCpus, limits.memory -> Memory, limits.pids -> PidsLimit,
    reservations.memory -> MemoryReservation; reservations.cpus has no single-engine field and
    is kept for Swarm only. The loader refuses a value that differs from the container-level
    field it duplicates (e.g. mem_limit vs limits.memory)."""

    limits: ResourceValues = ResourceValues()
    reservations: ResourceValues = ResourceValues()


@dataclass(frozen=True)
class IpamPool:
    """One `ipam.config` entry."""

    subnet: str | None = None
    ip_range: str | None = None
    gateway: str | None = None
    aux_addresses: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"subnet": self.subnet}
        if self.ip_range:
            out["ip_range"] = self.ip_range
        if self.gateway:
            out["gateway"] = self.gateway
        if self.aux_addresses:
            out["aux_addresses"] = dict(sorted(self.aux_addresses.items()))
        return out


@dataclass(frozen=True)
class Ipam:
    """A network's `ipam: {driver, config: [...], options}`."""

    driver: str | None = None  # None = "default"
    config: tuple[IpamPool, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "driver": self.driver,
            "config": [p.to_dict() for p in self.config],
            "options": dict(sorted(self.options.items())),
        }
