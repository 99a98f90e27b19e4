"""Value types of the container fields that spec v1 shares with Compose (issue 13): secrets and
configs, devices, ulimits, logging, deploy resources, network IPAM.

Inert frozen values, referenced by model/spec.py (ContainerSpec, NetworkSpec, Spec); built by
load/normalize/ (spec v1) and load/compose/ (Compose files); read by model/config.container_config
(the config hash) and engine/translate.py (the create body). Sizes are bytes, CPU counts floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from reconciler.errors import Location

SECRETS_DIR = "/run/secrets"  # a secret's default target folder (target = /run/secrets/NAME)
LOG_DRIVERS_LOCAL = ("json-file", "local", "none", "journald", "syslog")  # documentation only
NETWORK_MODES = ("bridge", "host", "none")  # plus container:NAME and service:KEY


class FileSource(Struct, frozen=True):
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


class FileUse(Struct, frozen=True):
    """A container's use of a secret or config (`secrets:` / `configs:` in a container):
    `source` is the top-level key; `target` is absolute (default /run/secrets/SOURCE for
    secrets, /SOURCE for configs). uid/gid/mode are kept for Swarm; a bind mount ignores them,
    as Compose does."""

    source: str
    target: str
    uid: str | None = None
    gid: str | None = None
    mode: int | None = None


class Device(Struct, frozen=True):
    """`devices:` entry "HOST[:CONTAINER[:PERMISSIONS]]" (permissions a subset of rwm)."""

    host: str
    container: str
    permissions: str = "rwm"

    def to_dict(self) -> dict[str, str]:
        return {"host": self.host, "container": self.container, "permissions": self.permissions}


class Ulimit(Struct, frozen=True):
    """`ulimits: {nofile: {soft: 1024, hard: 2048}}` or `{nproc: 512}` (soft == hard)."""

    name: str
    soft: int
    hard: int


class Logging(Struct, frozen=True):
    """`logging: {driver, options}`; driver None keeps the engine's default driver."""

    driver: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"driver": self.driver, "options": dict(sorted(self.options.items()))}


class ResourceValues(Struct, frozen=True):
    """One side of `deploy.resources` (limits or reservations). Memory in bytes."""

    cpus: float | None = None
    memory: int | None = None
    pids: int | None = None  # limits only


class DeployResources(Struct, frozen=True):
    """`deploy: {resources: {limits: {...}, reservations: {...}}}` (Compose's names). Only
    `resources` of Compose's `deploy` is honoured outside Swarm. The engine gets
    limits.cpus -> NanoCpus, limits.memory -> Memory, limits.pids -> PidsLimit,
    reservations.memory -> MemoryReservation; reservations.cpus has no single-engine field and
    is kept for Swarm only. The loader refuses a value that differs from the container-level
    field it duplicates (e.g. mem_limit vs limits.memory)."""

    limits: ResourceValues = ResourceValues()
    reservations: ResourceValues = ResourceValues()


class IpamPool(Struct, frozen=True):
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


class Ipam(Struct, frozen=True):
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


# --- the config hash ---------------------------------------------------------------------------


def options_config(spec: Any, container: Any, container_name: Any) -> dict[str, Any]:
    """The part of model/config.container_config for the fields above (`spec` is a Spec,
    `container` a ContainerSpec, `container_name` model/spec.container_name, for the engine
    name of `service:KEY`: passed in, as this module cannot import spec). Only fields that are set
    appear, so the hash of a container that uses none of them is what it was before;
    order-insensitive lists are sorted (the loader already sorted them; sorted again so a
    ContainerSpec built elsewhere, e.g. from Compose, hashes the same)."""
    c = container
    deploy = c.deploy or DeployResources()
    values: dict[str, Any] = {
        "expose": sorted(c.expose),
        "stop_signal": c.stop_signal,
        "cap_add": sorted(c.cap_add),
        "cap_drop": sorted(c.cap_drop),
        "privileged": c.privileged,
        "security_opt": sorted(c.security_opt),
        "read_only": c.read_only,
        "tmpfs": dict(sorted(c.tmpfs.items())),
        "devices": sorted((d.to_dict() for d in c.devices), key=lambda d: d["container"]),
        "sysctls": dict(sorted(c.sysctls.items())),
        "ulimits": [[u.name, u.soft, u.hard] for _, u in sorted(c.ulimits.items())],
        "shm_size": c.shm_size,
        "mem_limit": c.mem_limit if c.mem_limit is not None else deploy.limits.memory,
        "memswap_limit": c.memswap_limit,
        "mem_reservation": (
            c.mem_reservation if c.mem_reservation is not None else deploy.reservations.memory
        ),
        "cpus": c.cpus if c.cpus is not None else deploy.limits.cpus,
        "cpu_reservation": deploy.reservations.cpus,  # Swarm only; hashed all the same
        "cpu_shares": c.cpu_shares,
        "cpuset": c.cpuset,
        "pids_limit": c.pids_limit if c.pids_limit is not None else deploy.limits.pids,
        "extra_hosts": sorted(c.extra_hosts),
        "dns": list(c.dns),  # order matters
        "dns_search": list(c.dns_search),  # order matters
        "dns_opt": sorted(c.dns_opt),
        "network_mode": _network_mode(spec, c.network_mode, container_name),
        "mac_address": c.mac_address,
        "platform": c.platform,
        "runtime": c.runtime,
        "tty": c.tty,
        "stdin_open": c.stdin_open,
        "logging": c.logging.to_dict() if c.logging else None,
    }
    for kind in ("secrets", "configs"):
        uses = getattr(c, kind)
        known = getattr(spec, kind)
        values[kind] = sorted(
            (_file_config(use, known.get(use.source)) for use in uses), key=lambda u: u["target"]
        )
    return {k: v for k, v in values.items() if v not in (None, False, [], {})}


def _network_mode(spec: Any, mode: str | None, container_name: Any) -> str | None:
    if mode and mode.startswith("service:"):  # the first replica of that container
        other = spec.containers.get(mode.partition(":")[2])
        return "container:" + container_name(spec.project, other, 1) if other else mode
    return mode


def network_options(network: Any) -> dict[str, Any]:
    """The part of model/config.network_config for ipam, driver_opts, enable_ipv6 (when set)."""
    out: dict[str, Any] = {}
    if network.ipam is not None:
        out["ipam"] = network.ipam.to_dict()
    if network.driver_opts:
        out["driver_opts"] = dict(sorted(network.driver_opts.items()))
    if network.enable_ipv6:
        out["enable_ipv6"] = True
    return out


def _file_config(use: FileUse, source: FileSource | None) -> dict[str, Any]:
    """A secret's or config's mount: the host file and the content's digest (never the
    content: the config is stored in a label)."""
    out: dict[str, Any] = {"source": use.source, "target": use.target}
    if source is not None:
        out["file"] = source.host_path
        out["digest"] = source.digest
    for key in ("uid", "gid", "mode"):
        if getattr(use, key) is not None:
            out[key] = getattr(use, key)
    return out
