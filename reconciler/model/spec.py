"""The desired state: frozen, typed, normalised values built from a validated spec document.

`loader.load_spec()` builds a `Spec`; the planner reads it; nothing here does I/O. This module
also owns container naming; what each resource's config hash covers is model/config.py's, so
that the planner and the executor agree on what "unchanged" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from reconciler.errors import Location, Problem
from reconciler.model import container_options as co
from reconciler.model.equality import equal_except
from reconciler.model.labels import replica_name

CONTAINER_STATES = ("running", "stopped", "absent")
DEFAULT_NETWORK = "default"  # every container joins `<project>_default` unless it lists networks
PULL_POLICIES = ("if-missing", "always", "never")
BUILDERS = ("auto", "classic", "buildkit")  # build.builder
DEPENDENCY_CONDITIONS = ("started", "healthy", "completed")
MAX_REPLICAS = 10000  # the schema's maximum: names and ports are expanded per replica


class PortBinding(Struct, frozen=True):
    """One published port. A host port range gives replica i the i-th port of the range."""

    container_port: int
    protocol: str = "tcp"  # tcp | udp | sctp
    host_ip: str = ""  # "" = every interface
    host_port: int | None = None  # None: the engine picks a free port
    host_port_end: int | None = None  # last port of a host range (replicas), else None
    mode: str | None = None  # target swarm: ingress (default) | host; None = not written
    container_port_end: int | None = None  # a container port range "8000-8009" (no replicas)
    location: Location | None = None  # where it is written (not compared)

    __eq__, __hash__ = equal_except("location")

    def host_port_for(self, replica: int) -> int | None:
        if self.host_port is None:
            return None
        if self.host_port_end is None:
            return self.host_port
        return self.host_port + replica - 1

    def for_replica(self, replica: int) -> dict[str, Any]:
        out = {
            "container_port": self.container_port,
            "protocol": self.protocol,
            "host_ip": self.host_ip,
            "host_port": self.host_port_for(replica),
        }
        if self.container_port_end is not None:  # a range; absent when unset: old hashes hold
            out.update(container_port_end=self.container_port_end, host_port_end=self.host_port_end)
        return out


class Mount(Struct, frozen=True):
    """A volume mount: a named volume, a bind mount (absolute source) or an anonymous volume."""

    target: str
    source: str | None = None  # volume name (spec key) or absolute host path; None = anonymous
    kind: str = "volume"  # volume | bind | anonymous
    read_only: bool = False
    selinux: str | None = None  # "z" (shared) | "Z" (private) relabel of a bind source
    propagation: str | None = None  # bind: rprivate|private|rshared|shared|rslave|slave
    create_host_path: bool = False  # bind: create a missing host folder (Compose's default)
    nocopy: bool = False  # volume: do not copy the image's content into a new volume

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target,
            "source": self.source,
            "kind": self.kind,
            "read_only": self.read_only,
        }
        options: tuple[tuple[str, Any], ...] = (("selinux", self.selinux), ("nocopy", self.nocopy))
        options += (("create_host_path", self.create_host_path), ("propagation", self.propagation))
        out.update((k, v) for k, v in options if v)  # absent when unset: older hashes hold
        return out


class Healthcheck(Struct, frozen=True):
    """Durations are seconds (floats); the engine adapter converts to nanoseconds."""

    test: tuple[str, ...]  # ("CMD", ...) | ("CMD-SHELL", "cmd") | ("NONE",)
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    start_interval: float | None = None  # probe interval during start_period (API >= 1.44)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "test": list(self.test),
            "interval": self.interval,
            "timeout": self.timeout,
            "retries": self.retries,
            "start_period": self.start_period,
        }
        if self.start_interval is not None:  # absent when unset: older hashes hold
            out["start_interval"] = self.start_interval
        return out


class RestartPolicy(Struct, frozen=True):
    """A container's `restart:` policy (Docker's names; model/swarm.py maps it for services)."""

    name: str = "no"  # no | always | on-failure | unless-stopped
    max_retries: int = 0  # only with on-failure


class Dependency(Struct, frozen=True):
    """One `depends_on:` entry: the planner orders changes by it, the executor waits on it."""

    target: str  # a containers key
    condition: str = "started"  # started | healthy | completed
    restart: bool = False  # restart this container when the target is replaced (Compose)
    required: bool = True  # False: a target that is not in the spec is ignored (with a note)


class NetworkAttachment(Struct, frozen=True):
    """One network a container joins: a `networks:` entry, or the default (`Spec.attachments`)."""

    network: str  # a networks key (or the project's default network)
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None  # a fixed address inside the network's subnet
    ipv6_address: str | None = None


class UpdatePolicy(Struct, frozen=True):
    """target swarm: how a service rolls to a new version (`update:`); None = the default."""

    order: str | None = None  # start-first | stop-first; None: start-first where ports allow
    failure_action: str = "rollback"  # rollback | pause | continue
    monitor: float = 5.0  # seconds each new task is watched for failure
    parallelism: int = 1  # tasks updated at once (0: all)


class ContainerSpec(Struct, frozen=True):
    """One `containers:` entry after normalisation (replicas expand at plan time)."""

    key: str
    image: str  # an images key or a reference, as written
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # env_file merged, env wins
    ports: tuple[PortBinding, ...] = ()
    volumes: tuple[Mount, ...] = ()
    workdir: str | None = None
    user: str | None = None
    restart: RestartPolicy = RestartPolicy()
    replicas: int = 1
    depends_on: tuple[Dependency, ...] = ()
    healthcheck: Healthcheck | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    state: str = "running"  # running | stopped | absent
    exec: tuple[tuple[str, ...], ...] = ()
    stop_timeout: float | None = None  # seconds
    init: bool = False  # run an init (tini) as PID 1: forwards signals, reaps zombies
    name: str | None = None  # explicit container name (replicas == 1 only)
    hostname: str | None = None
    networks: tuple[NetworkAttachment, ...] = ()
    update: UpdatePolicy | None = None  # target swarm only
    endpoint_mode: str | None = None  # target swarm only: vip (default) | dnsrr
    # --- fields shared with Compose (issue 13), Compose's names; unset = default/empty -----
    expose: tuple[str, ...] = ()  # "PORT/PROTO", ranges expanded, sorted, no duplicates
    secrets: tuple[co.FileUse, ...] = ()  # top-level `secrets:` keys, read-only bind mounts
    configs: tuple[co.FileUse, ...] = ()  # top-level `configs:` keys, read-only bind mounts
    stop_signal: str | None = None  # "SIGTERM", "SIGQUIT", "9", ... (upper-case names)
    cap_add: tuple[str, ...] = ()  # upper-case, without "CAP_", sorted, e.g. ("NET_ADMIN",)
    cap_drop: tuple[str, ...] = ()  # idem; "ALL" allowed
    privileged: bool = False
    security_opt: tuple[str, ...] = ()  # "no-new-privileges:true", "seccomp=unconfined", ...
    read_only: bool = False  # read-only root filesystem
    tmpfs: Mapping[str, str] = field(default_factory=dict)  # absolute path -> mount options
    devices: tuple[co.Device, ...] = ()
    sysctls: Mapping[str, str] = field(default_factory=dict)
    ulimits: Mapping[str, co.Ulimit] = field(default_factory=dict)  # name -> limit
    shm_size: int | None = None  # bytes
    mem_limit: int | None = None  # bytes
    memswap_limit: int | None = None  # bytes; -1 = unlimited swap
    mem_reservation: int | None = None  # bytes
    cpus: float | None = None  # e.g. 0.5
    cpu_shares: int | None = None
    cpuset: str | None = None  # "0-3" or "0,1"
    pids_limit: int | None = None  # -1 = unlimited
    deploy: co.DeployResources | None = None  # Compose's deploy.resources (limits, reservations)
    extra_hosts: tuple[str, ...] = ()  # "HOST:IP", sorted
    dns: tuple[str, ...] = ()  # order kept: the resolver tries them in order
    dns_search: tuple[str, ...] = ()  # order kept: searched in order
    dns_opt: tuple[str, ...] = ()  # sorted
    network_mode: str | None = None  # host | none | bridge | container:NAME | service:KEY
    mac_address: str | None = None
    platform: str | None = None  # "linux/amd64": the image's platform to run (and pull)
    runtime: str | None = None  # an OCI runtime known to the engine, e.g. "runc"
    tty: bool = False
    stdin_open: bool = False
    logging: co.Logging | None = None
    pull_policy: str | None = None  # one of PULL_POLICIES, for an image the spec does not declare
    location: Location | None = None  # where the key stands in the spec file


class BuildSpec(Struct, frozen=True):
    """An image's `build:` entry: the planner hashes its context, the executor builds it."""

    context: str  # absolute path
    dockerfile: str = "Dockerfile"  # relative to context
    args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # How the image is built (not part of the source hash: they do not define the image).
    builder: str = "auto"  # auto | classic | buildkit (BUILDERS)
    cache_from: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)  # id -> absolute file (BuildKit)
    ssh: tuple[str, ...] = ()  # "default" or "id=path" (BuildKit)
    network: str | None = None  # the network RUN steps use: default | host | none
    extra_hosts: tuple[str, ...] = ()  # "host:ip"
    shm_size: int | None = None  # bytes of /dev/shm for RUN steps


class CommitChanges(Struct, frozen=True):
    """A commit's `changes:`: the config the committed image gets (translate.commit_config)."""

    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    expose: tuple[str, ...] = ()  # "8080" or "8080/udp"
    user: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


class CommitSpec(Struct, frozen=True):
    """An image's `commit:` entry: `run` steps in a container of `base`, committed as the image."""

    base: str  # an images key or a reference
    run: tuple[str, ...]  # shell commands, run in order
    changes: CommitChanges = CommitChanges()


class ImageSpec(Struct, frozen=True):
    """One `images:` entry. `reference` is what containers run: the pulled reference, or the
    tag a build or commit produces (default `<project>/<key>:latest`)."""

    key: str
    kind: str  # pull | build | commit
    reference: str
    policy: str = "if-missing"  # pulls only
    build: BuildSpec | None = None
    commit: CommitSpec | None = None
    location: Location | None = None


class NetworkSpec(Struct, frozen=True):
    """One `networks:` entry, or the project's default network (`Spec.network`)."""

    key: str
    name: str  # engine name: "<project>_<key>" unless external (then the key or `name`)
    driver: str = "bridge"
    internal: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    subnet: str | None = None
    external: bool = False
    attachable: bool = False  # overlay networks of target swarm: plain containers may join
    ipam: co.Ipam | None = None  # Compose's ipam (`subnet` is the short form of one pool)
    driver_opts: Mapping[str, str] = field(default_factory=dict)
    enable_ipv6: bool = False
    location: Location | None = None


class VolumeSpec(Struct, frozen=True):
    """One `volumes:` entry, or an undeclared volume a container names (plan/resources.py)."""

    key: str
    name: str  # engine name: "<project>_<key>" unless external
    driver: str = "local"
    driver_opts: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    external: bool = False
    location: Location | None = None


class Spec(Struct, frozen=True):
    """The whole desired state of one project: made by `loader.load_spec()`, read by the planner."""

    project: str
    path: str  # absolute path of the spec file
    version: int = 1
    images: Mapping[str, ImageSpec] = field(default_factory=dict)
    containers: Mapping[str, ContainerSpec] = field(default_factory=dict)
    networks: Mapping[str, NetworkSpec] = field(default_factory=dict)
    volumes: Mapping[str, VolumeSpec] = field(default_factory=dict)
    secrets: Mapping[str, co.FileSource] = field(default_factory=dict)  # top-level `secrets:`
    configs: Mapping[str, co.FileSource] = field(default_factory=dict)  # top-level `configs:`
    target: str = "engine"  # engine | swarm (docs/swarm.md)
    registry: str | None = None  # target swarm: where built and committed images are pushed
    # located warnings from validation (the spec is valid): validate and plan show them
    warnings: tuple[Problem, ...] = ()

    __eq__, __hash__ = equal_except("warnings")

    def image_reference(self, image: str) -> str:
        """The engine reference for a container's or commit's `image`: a key or a reference."""
        spec = self.images.get(image)
        return spec.reference if spec else image

    def network(self, key: str) -> NetworkSpec:
        """The network for a key; `default` is the project's own bridge network unless declared."""
        declared = self.networks.get(key)
        if declared is not None:
            return declared
        if key == DEFAULT_NETWORK:
            name = f"{self.project}_{DEFAULT_NETWORK}"
            if self.target == "swarm":  # the project's default network is an overlay
                return NetworkSpec(key=key, name=name, driver="overlay", attachable=True)
            return NetworkSpec(key=key, name=name)
        return NetworkSpec(key=key, name=key)  # unknown keys are rejected by validation

    def attachments(self, container: ContainerSpec) -> tuple[NetworkAttachment, ...]:
        """The networks a container joins: its explicit list, or the default network (like
        Compose, an explicit list replaces the default); none with a network_mode."""
        if container.network_mode:
            return ()
        return container.networks or (NetworkAttachment(DEFAULT_NETWORK),)

    def volume_name(self, source: str) -> str:
        """The engine name of a named mount's source: a declared volume's name, or the source
        itself for a volume the spec does not declare (created implicitly, like docker)."""
        declared = self.volumes.get(source)
        return declared.name if declared else source


# --- naming ------------------------------------------------------------------------------------


def container_name(project: str, container: ContainerSpec, replica: int) -> str:
    """Compose-style names: `<project>-<key>-<replica>`, or the explicit `name`."""
    if container.name:
        return container.name
    return replica_name(project, container.key, replica)
