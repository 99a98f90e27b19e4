"""The engine: the only package that imports the Docker SDK (lazily, inside calls).

`EnginePort` (port.py) is the contract the rest of the code uses; `Engine` (adapter.py) is the
Docker implementation. Per kind: containers.py, images.py, networks.py, volumes.py; the
connection, error translation and observe: client.py; request bodies and raw -> observed
values: translate.py; event/log/exec streams and build logs: streams.py.
"""

from reconciler.engine.adapter import Engine
from reconciler.engine.port import EnginePort

__all__ = ["Engine", "EnginePort"]
