"""What each resource's config hash is computed from (model/labels.config_hash): the normalised
config of a container replica, a network and a volume. Everything that, when changed, means the
resource must be recreated is in it; what can change in place (replicas, state, depends_on) is
not. Keys added by later issues are absent when unset, so hashes of existing resources hold.
Read by the planner (plan/containers.py, networks.py, volumes.py), the engine adapter (the
create bodies) and model/swarm.py (a service's networks).
"""

from __future__ import annotations

from typing import Any

from reconciler.model import container_options as co
from reconciler.model.spec import (
    ContainerSpec,
    Mount,
    NetworkSpec,
    Spec,
    VolumeSpec,
    container_name,
)


def container_config(
    spec: Spec, container: ContainerSpec, replica: int, image_id: str | None
) -> dict[str, Any]:
    """The normalised config of one replica: everything that, when changed, means a new
    container. Replicas, depends_on and state are left out (design.md). Order-insensitive
    collections are sorted so that reordering them in the spec changes nothing."""
    return {
        "name": container_name(spec.project, container, replica),
        **process_config(spec, container, image_id),
        "ports": sorted(
            (p.for_replica(replica) for p in container.ports),
            key=lambda p: (p["container_port"], p["protocol"], p["host_ip"], p["host_port"] or 0),
        ),
        "volumes": sorted(
            (_mount_config(spec, m) for m in container.volumes), key=lambda m: m["target"]
        ),
        "workdir": container.workdir,
        "user": container.user,
        "restart": {"name": container.restart.name, "max_retries": container.restart.max_retries},
        "healthcheck": container.healthcheck.to_dict() if container.healthcheck else None,
        "labels": dict(sorted(container.labels.items())),
        "exec": [list(step) for step in container.exec],
        "stop_timeout": container.stop_timeout,
        **({"init": True} if container.init else {}),  # absent when off: older hashes hold
        "hostname": container.hostname,
        "networks": attachments_config(spec, container, addresses=True),
        **co.options_config(spec, container, container_name),  # Compose's fields, when set
    }


def process_config(spec: Spec, container: ContainerSpec, image_id: str | None) -> dict[str, Any]:
    """What runs, the same for a container and a service (model/swarm.service_config): the
    image (reference and ID), command, entrypoint and environment."""
    return {
        "image": spec.image_reference(container.image),
        "image_id": image_id,
        "command": list(container.command) if container.command is not None else None,
        "entrypoint": list(container.entrypoint) if container.entrypoint is not None else None,
        "env": dict(sorted(container.env.items())),
    }


def attachments_config(spec: Spec, container: ContainerSpec, addresses: bool = False) -> list:
    """The networks a container (or service) joins, as hashed: reachable by its key on every
    network like a Compose service; fixed addresses only where the target has them."""
    keys = ("ipv4_address", "ipv6_address") if addresses else ()
    return sorted(
        (
            {
                "network": n.network,
                "name": spec.network(n.network).name,
                "aliases": sorted({*n.aliases, container.key}),
                **{k: v for k in keys if (v := getattr(n, k))},
            }
            for n in spec.attachments(container)
        ),
        key=lambda n: n["network"],
    )


def _mount_config(spec: Spec, mount: Mount) -> dict[str, Any]:
    out = mount.to_dict()
    if mount.kind == "volume" and mount.source:
        out["name"] = spec.volume_name(mount.source)  # engine name: a rename means a new mount
    return out


def network_config(network: NetworkSpec) -> dict[str, Any]:
    """Everything that, when changed, means the network must be recreated."""
    return {
        "name": network.name,
        "driver": network.driver,
        "internal": network.internal,
        "labels": dict(sorted(network.labels.items())),
        "subnet": network.subnet,
        **({"attachable": True} if network.attachable else {}),  # absent when off: hashes hold
        **co.network_options(network),  # ipam, driver_opts, enable_ipv6 when set (issue 13)
    }


def volume_config(volume: VolumeSpec) -> dict[str, Any]:
    """Everything that defines a named volume (a change cannot be applied without losing data)."""
    return {
        "name": volume.name,
        "driver": volume.driver,
        "driver_opts": dict(sorted(volume.driver_opts.items())),
        "labels": dict(sorted(volume.labels.items())),
    }
