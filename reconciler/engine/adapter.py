"""The Docker adapter: `Engine` composes the connection (client.py) with one module of
operations per kind (containers, images, networks, volumes) and the streams.

Commands connect with `Engine.connect()`; everything else receives it as an `EnginePort`
(port.py). Importing this module does not import the Docker SDK (only calls do).
"""

from __future__ import annotations

from reconciler.engine.buildkit import BuildkitOps
from reconciler.engine.containers import ContainerOps
from reconciler.engine.images import ImageOps
from reconciler.engine.lease import LeaseOps
from reconciler.engine.networks import NetworkOps
from reconciler.engine.port import EnginePort
from reconciler.engine.services import ServiceOps
from reconciler.engine.streams import StreamOps
from reconciler.engine.volumes import VolumeOps


class Engine(
    ContainerOps, ImageOps, BuildkitOps, NetworkOps, VolumeOps, StreamOps, ServiceOps, LeaseOps
):
    """One connection to one Docker engine, implementing `EnginePort`. Thread-safe for the
    executor's thread pool."""


def _implements_the_port(engine: Engine) -> EnginePort:
    """Never called: mypy checks here that `Engine` implements the whole `EnginePort`."""
    return engine
