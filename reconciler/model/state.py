"""The observed state: plain frozen values read from the engine by `engine.Engine.observe()`.

No SDK objects leak past engine.py; the planner reads only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from reconciler.model.swarm import SwarmState


class ObservedContainer(Struct, frozen=True):
    """One container as the engine lists it: the project's own, or one Compose created."""

    id: str
    name: str
    project: str
    key: str  # io.reconciler.name
    replica: int  # io.reconciler.replica (0 when the label is missing or bad)
    status: str  # created | running | paused | restarting | removing | exited | dead
    health: str | None = None  # starting | healthy | unhealthy | None (no healthcheck)
    exit_code: int | None = None  # for exited containers, parsed from the list's Status
    image: str = ""  # the reference the container was created from
    image_id: str = ""
    config_hash: str | None = None
    config: Mapping[str, Any] | None = None  # parsed io.reconciler.config label
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[str, ...] = ()  # for display: "127.0.0.1:8080->8080/tcp"
    created: int = 0
    anonymous_volumes: tuple[str, ...] = ()  # names of its engine-named (anonymous) volumes

    @property
    def running(self) -> bool:
        return self.status in ("running", "restarting")

    @property
    def short_id(self) -> str:
        return self.id[:12]


class ObservedImage(Struct, frozen=True):
    """One image as the engine lists it: by tag in `State.images`, or labelled with the project."""

    id: str
    tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    created: int = 0
    digests: tuple[str, ...] = ()  # repo digests: "localhost:5000/x@sha256:..."


class ObservedNetwork(Struct, frozen=True):
    """One network as the engine lists it: the project's, or another one (by name)."""

    id: str
    name: str
    driver: str = "bridge"
    labels: Mapping[str, str] = field(default_factory=dict)


class ObservedVolume(Struct, frozen=True):
    """One named volume as the engine lists it: the project's, or another one (by name)."""

    name: str
    driver: str = "local"
    labels: Mapping[str, str] = field(default_factory=dict)


class ForeignPort(Struct, frozen=True):
    """A host port published by a container this project does not own (a clash for plan)."""

    host_ip: str  # "" or 0.0.0.0 or :: = every interface
    protocol: str
    port: int
    container: str  # its name


class State(Struct, frozen=True):
    """Everything the planner needs about one project, read in a constant number of calls."""

    project: str
    containers: tuple[ObservedContainer, ...] = ()  # owned by this project
    # Containers NOT owned by this project: name -> id (name clashes) and image id -> names
    # (an image still used by a foreign container is never removed).
    foreign_names: Mapping[str, str] = field(default_factory=dict)
    image_users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # image id -> names
    # Containers Compose created for a project of this name (also in foreign_names; their
    # ports are never a clash): key = the service, replica = its container number.
    compose_containers: tuple[ObservedContainer, ...] = ()
    foreign_ports: tuple[ForeignPort, ...] = ()  # host ports published by those containers
    images: Mapping[str, ObservedImage] = field(default_factory=dict)  # "repo:tag" -> image
    project_images: tuple[ObservedImage, ...] = ()  # images labelled with this project
    networks: Mapping[str, ObservedNetwork] = field(default_factory=dict)  # by name
    volumes: Mapping[str, ObservedVolume] = field(default_factory=dict)  # by name
    # Networks and volumes NOT labelled with this project, by name: externals, name clashes,
    # and volumes a container names without declaring them (used as they are).
    other_networks: Mapping[str, ObservedNetwork] = field(default_factory=dict)
    other_volumes: Mapping[str, ObservedVolume] = field(default_factory=dict)
    swarm: SwarmState | None = None  # target swarm: services, tasks, nodes (model/swarm.py)

    def image_id(self, reference: str) -> str | None:
        image = self.images.get(normalise_reference(reference))
        return image.id if image else None


def normalise_reference(reference: str) -> str:
    """`busybox` -> `busybox:latest`; digests and explicit tags are kept as written."""
    if "@" in reference:
        return reference
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last else f"{reference}:latest"
