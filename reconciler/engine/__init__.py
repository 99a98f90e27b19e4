"""The engine: the only package that imports the Docker SDK (lazily, inside calls).

`EnginePort` (port.py) is the contract the rest of the code uses; `Engine` (adapter.py) is the
Docker implementation. Per kind: containers.py, images.py, networks.py, volumes.py; the
connection, error translation and observe: client.py; request bodies and raw -> observed
values: translate.py; event/log/exec streams and build logs: streams.py.

`Engine` and `EnginePort` are loaded on first use (PEP 562), so that importing a small module
of the package (readahead.py, which cli.py starts before anything else) does not import the
whole adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.engine.adapter import Engine
    from reconciler.engine.port import EnginePort

__all__ = ["Engine", "EnginePort"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from reconciler.engine.adapter import Engine  # lazy seam: see the docstring

        return Engine
    if name == "EnginePort":
        from reconciler.engine.port import EnginePort  # lazy seam: see the docstring

        return EnginePort
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
