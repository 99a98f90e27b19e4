"""target swarm: the observed services, tasks and nodes, and a service's normalised config.

`engine/services.py` builds `SwarmState` (a constant number of list calls); `plan/services.py`
compares `service_config()` (through its hash, kept in a service label) with what it finds;
`engine/translate_swarm.py` turns the same config into a Swarm ServiceSpec body. Inert values
only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from reconciler.model.config import attachments_config, process_config
from reconciler.model.spec import ContainerSpec, Spec, UpdatePolicy

# Swarm's terminal update states (UpdateStatus.State)
UPDATE_DONE = "completed"
UPDATE_ROLLED_BACK = "rollback_completed"
UPDATE_PAUSED = ("paused", "rollback_paused")


class ObservedTask(Struct, frozen=True):
    """One task (a replica's container) of a service, made by engine/translate_swarm.py."""

    id: str
    service_id: str
    node_id: str = ""
    slot: int = 0
    state: str = ""  # Status.State: new .. running, complete, failed, rejected, shutdown
    desired_state: str = ""  # running | shutdown | ...
    error: str = ""  # Status.Err
    message: str = ""  # Status.Message
    container_id: str = ""
    timestamp: str = ""  # Status.Timestamp (RFC 3339)

    @property
    def running(self) -> bool:
        return self.state == "running"


class ObservedNode(Struct, frozen=True):
    """One Swarm node (engine/translate_swarm.py); status and attach show where tasks run."""

    id: str
    hostname: str = ""
    role: str = ""  # manager | worker
    state: str = ""  # ready | down | ...
    address: str = ""


class ObservedService(Struct, frozen=True):
    """One service the project owns, with its tasks: made by engine/translate_swarm.py, compared
    with the spec by plan/services.py."""

    id: str
    name: str
    project: str
    key: str  # io.reconciler.name
    version: int = 0  # Version.Index, needed to update
    replicas: int = 0  # Mode.Replicated.Replicas
    image: str = ""  # the pinned reference in the task template
    config_hash: str | None = None
    config: Mapping[str, Any] | None = None  # parsed io.reconciler.config label
    labels: Mapping[str, str] = field(default_factory=dict)
    update_state: str = ""  # UpdateStatus.State ("" when no update ran)
    update_message: str = ""
    published: tuple[str, ...] = ()  # for display: "8080->80/tcp (host)"
    ingress: bool = False  # a port is published through the routing mesh (needs IPVS)
    tasks: tuple[ObservedTask, ...] = ()

    @property
    def running_tasks(self) -> tuple[ObservedTask, ...]:
        return tuple(t for t in self.tasks if t.running and t.desired_state == "running")


class SwarmState(Struct, frozen=True):
    """The project's services (with their tasks), the names of services it does not own, and
    the nodes."""

    node_id: str = ""  # the node this engine is
    services: Mapping[str, ObservedService] = field(default_factory=dict)  # by key
    foreign_names: Mapping[str, str] = field(default_factory=dict)  # name -> service id
    nodes: Mapping[str, ObservedNode] = field(default_factory=dict)  # by id


def service_name(project: str, key: str) -> str:
    """Like `docker stack deploy`: `<project>_<key>`."""
    return f"{project}_{key}"


def restart_condition(container: ContainerSpec) -> tuple[str, int]:
    """Swarm's restart condition and max attempts: no -> none, on-failure[:N] -> on-failure,
    always and unless-stopped -> any."""
    name = container.restart.name
    if name == "no":
        return "none", 0
    if name == "on-failure":
        return "on-failure", container.restart.max_retries
    return "any", 0


def update_order(container: ContainerSpec) -> str:
    """start-first where ports allow: a fixed host-mode port cannot be bound twice on a node,
    so a new task would wait for the old one forever (docs/swarm-nodes.md)."""
    policy = container.update or UpdatePolicy()
    if policy.order:
        return policy.order
    fixed_host = any(p.mode == "host" and p.host_port is not None for p in container.ports)
    return "stop-first" if fixed_host else "start-first"


def service_config(spec: Spec, container: ContainerSpec, image_id: str | None) -> dict[str, Any]:
    """Everything that, when changed, means a rolling update. Replicas are left out (a scale
    is not an update). Order-insensitive collections are sorted."""
    policy = container.update or UpdatePolicy()
    condition, attempts = restart_condition(container)
    hc = container.healthcheck
    return {
        "name": service_name(spec.project, container.key),
        **process_config(spec, container, image_id),
        "ports": sorted(
            (
                {
                    "container_port": p.container_port,
                    "protocol": p.protocol,
                    "host_port": p.host_port,
                    "mode": p.mode or "ingress",
                }
                for p in container.ports
            ),
            key=lambda p: (p["container_port"], p["protocol"], p["host_port"] or 0),
        ),
        "volumes": sorted(
            (
                {
                    **m.to_dict(),
                    **(
                        {"name": spec.volume_name(m.source)}
                        if m.kind == "volume" and m.source
                        else {}
                    ),
                }
                for m in container.volumes
            ),
            key=lambda m: m["target"],
        ),
        "workdir": container.workdir,
        "user": container.user,
        "hostname": container.hostname,
        "restart": {"condition": condition, "max_attempts": attempts},
        "healthcheck": hc.to_dict() if hc else None,
        "labels": dict(sorted(container.labels.items())),
        "stop_timeout": container.stop_timeout,
        "init": container.init,  # ContainerSpec.Init (API 1.38+)
        "endpoint_mode": container.endpoint_mode or "vip",
        "update": {
            "order": update_order(container),
            "failure_action": policy.failure_action,
            "monitor": policy.monitor,
            "parallelism": policy.parallelism,
        },
        "networks": attachments_config(spec, container),
    }
