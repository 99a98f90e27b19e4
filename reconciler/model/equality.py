"""Equality of a record type that leaves some fields out: where a value was written (a port's
location) or what only explains it (a spec's warnings, an event trigger's container id).

msgspec Structs compare and hash every field; a class that must not assigns the pair this
returns in its body: `__eq__, __hash__ = equal_except("location")`. Used by model/spec.py and
watch/triggers.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def equal_except(*ignored: str) -> tuple[Callable[[Any, object], bool], Callable[[Any], int]]:
    """`__eq__` and `__hash__` over every field of the Struct but `ignored`, in field order."""

    def key(record: Any) -> tuple:
        return tuple(
            getattr(record, name) for name in record.__struct_fields__ if name not in ignored
        )

    def __eq__(self: Any, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return key(self) == key(other)

    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __eq__, __hash__
