"""The table of change handlers by kind: the one place a new kind is registered.
Read by the scheduler (scheduler.py)."""

from __future__ import annotations

from reconciler.execute.containers import ContainerHandler
from reconciler.execute.context import Handler
from reconciler.execute.images import ImageHandler
from reconciler.execute.networks import NetworkHandler
from reconciler.execute.services import ServiceHandler
from reconciler.execute.volumes import VolumeHandler
from reconciler.model.plan import Kind

HANDLERS: dict[str, Handler] = {
    Kind.CONTAINER: ContainerHandler(),
    Kind.IMAGE: ImageHandler(),
    Kind.NETWORK: NetworkHandler(),
    Kind.VOLUME: VolumeHandler(),
    Kind.SERVICE: ServiceHandler(),
}
