"""Pure translations between the project's service values and the Swarm API (no SDK, no I/O).

`service_body`: a normalised service config (model/swarm.py) -> the ServiceSpec body of
POST /services/create and /services/{id}/update (Engine API 1.41). `observed_service`,
`observed_task`, `observed_node`: raw list data -> model values. Called by engine/services.py;
unit-tested without an engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.engine.translate import healthcheck_body, parse_config_label
from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_CONFIG_HASH,
    LABEL_KIND,
    LABEL_NAME,
    LABEL_PROJECT,
)
from reconciler.model.swarm import ObservedNode, ObservedService, ObservedTask

_NS = 1_000_000_000


def service_body(
    config: Mapping[str, Any],
    labels: Mapping[str, str],
    replicas: int,
    image: str,
    *,
    volume_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ServiceSpec for `config`; `image` is the digest-pinned reference, `labels` the
    service's (ownership, hash, recorded config). Tasks' containers get the user's labels and
    the ownership labels with the hash, so that every change of the config rolls the tasks."""
    volume_names = volume_names or {}
    container_labels = dict(config.get("labels") or {})
    for key in (LABEL_PROJECT, LABEL_NAME, LABEL_CONFIG_HASH):
        if key in labels:
            container_labels[key] = labels[key]
    container_labels[LABEL_KIND] = "task"  # not a container of the project: Swarm's own
    spec: dict[str, Any] = {
        "Image": image,
        "Labels": container_labels,
        "Env": [f"{k}={v}" for k, v in sorted((config.get("env") or {}).items())],
    }
    if config.get("entrypoint") is not None:
        spec["Command"] = list(config["entrypoint"])  # Swarm's Command is the entrypoint
    if config.get("command") is not None:
        spec["Args"] = list(config["command"])
    for field, key in (("workdir", "Dir"), ("user", "User"), ("hostname", "Hostname")):
        if config.get(field):
            spec[key] = config[field]
    if config.get("init"):
        spec["Init"] = True
    if config.get("stop_timeout") is not None:
        spec["StopGracePeriod"] = round(config["stop_timeout"] * _NS)
    if config.get("healthcheck"):
        spec["HealthCheck"] = healthcheck_body(config["healthcheck"])
    mounts = [_mount(m, volume_names) for m in config.get("volumes") or ()]
    if mounts:
        spec["Mounts"] = mounts
    restart = config.get("restart") or {}
    update = config.get("update") or {}
    order = update.get("order") or "stop-first"
    monitor = round(float(update.get("monitor") or 5.0) * _NS)
    parallelism = int(update.get("parallelism", 1))
    return {
        "Name": config["name"],
        "Labels": dict(labels),
        "TaskTemplate": {
            "ContainerSpec": spec,
            "RestartPolicy": {
                "Condition": restart.get("condition") or "any",
                "MaxAttempts": int(restart.get("max_attempts") or 0),
            },
            "Networks": [
                {"Target": n["name"], "Aliases": list(n.get("aliases") or ())}
                for n in config.get("networks") or ()
            ],
        },
        "Mode": {"Replicated": {"Replicas": replicas}},
        "UpdateConfig": {
            "Parallelism": parallelism,
            "FailureAction": update.get("failure_action") or "rollback",
            "Monitor": monitor,
            "MaxFailureRatio": 0,
            "Order": order,
        },
        # Without it a rollback takes Swarm's defaults; it must respect the ports (order).
        "RollbackConfig": {
            "Parallelism": parallelism,
            "FailureAction": "pause",
            "Monitor": monitor,
            "MaxFailureRatio": 0,
            "Order": order,
        },
        "EndpointSpec": {
            "Mode": config.get("endpoint_mode") or "vip",
            "Ports": [_port(p) for p in config.get("ports") or ()],
        },
    }


def _port(port: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Protocol": port.get("protocol") or "tcp",
        "TargetPort": int(port["container_port"]),
        "PublishMode": port.get("mode") or "ingress",
    }
    if port.get("host_port") is not None:
        out["PublishedPort"] = int(port["host_port"])
    return out


def _mount(mount: Mapping[str, Any], volume_names: Mapping[str, str]) -> dict[str, Any]:
    kind = mount.get("kind")
    out: dict[str, Any] = {
        "Type": "bind" if kind == "bind" else "volume",
        "Target": mount["target"],
        "ReadOnly": bool(mount.get("read_only")),
    }
    if kind == "bind":
        out["Source"] = mount["source"]
    elif kind == "volume" and mount.get("source"):
        out["Source"] = volume_names.get(mount["source"]) or mount.get("name") or mount["source"]
    return out


# --- raw -> observed --------------------------------------------------------------------------


def observed_task(raw: Mapping[str, Any]) -> ObservedTask:
    status = raw.get("Status") or {}
    container = status.get("ContainerStatus") or {}
    return ObservedTask(
        id=raw.get("ID", ""),
        service_id=raw.get("ServiceID", ""),
        node_id=raw.get("NodeID", ""),
        slot=int(raw.get("Slot") or 0),
        state=status.get("State", ""),
        desired_state=raw.get("DesiredState", ""),
        error=status.get("Err", ""),
        message=status.get("Message", ""),
        container_id=container.get("ContainerID", ""),
        timestamp=status.get("Timestamp", ""),
    )


def observed_service(raw: Mapping[str, Any], tasks: Iterable[ObservedTask] = ()) -> ObservedService:
    spec = raw.get("Spec") or {}
    labels = dict(spec.get("Labels") or {})
    replicated = (spec.get("Mode") or {}).get("Replicated") or {}
    template = spec.get("TaskTemplate") or {}
    update = raw.get("UpdateStatus") or {}
    endpoint = raw.get("Endpoint") or {}
    ports = endpoint.get("Ports") or (spec.get("EndpointSpec") or {}).get("Ports") or ()
    published = tuple(
        f"{p.get('PublishedPort', '')}->{p.get('TargetPort')}/{p.get('Protocol', 'tcp')} "
        f"({p.get('PublishMode', 'ingress')})"
        for p in ports
    )
    return ObservedService(
        id=raw.get("ID", ""),
        name=spec.get("Name", ""),
        project=labels.get(LABEL_PROJECT, ""),
        key=labels.get(LABEL_NAME, ""),
        version=int((raw.get("Version") or {}).get("Index") or 0),
        replicas=int(replicated.get("Replicas") or 0),
        image=(template.get("ContainerSpec") or {}).get("Image", ""),
        config_hash=labels.get(LABEL_CONFIG_HASH),
        config=parse_config_label(labels.get(LABEL_CONFIG)),
        labels=labels,
        update_state=update.get("State", ""),
        update_message=update.get("Message", ""),
        published=published,
        ingress=any((p.get("PublishMode") or "ingress") == "ingress" for p in ports),
        tasks=tuple(sorted(tasks, key=lambda t: (t.slot, t.timestamp), reverse=False)),
    )


def observed_node(raw: Mapping[str, Any]) -> ObservedNode:
    return ObservedNode(
        id=raw.get("ID", ""),
        hostname=(raw.get("Description") or {}).get("Hostname", ""),
        role=(raw.get("Spec") or {}).get("Role", ""),
        state=(raw.get("Status") or {}).get("State", ""),
        address=(raw.get("Status") or {}).get("Addr", ""),
    )
