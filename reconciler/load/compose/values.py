"""Compose's conversions of scalar values, and the translation's result type (`V1`): shared
by load/compose/translate.py and load/compose/resources.py."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from reconciler.errors import Problem
from reconciler.load.source import PathT

_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class V1(Struct):
    """A spec v1 document made from the Compose model."""

    data: dict[str, Any]
    links: dict[PathT, PathT] = field(default_factory=dict)  # spec v1 path -> model path
    notes: dict[PathT, str] = field(default_factory=dict)  # spec v1 path -> comment
    problems: list[Problem] = field(default_factory=list)


def text(value: Any) -> str:
    """Compose converts numbers and booleans to text where text is expected."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def boolean(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


def integer(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value
