"""The one short form of an engine ID or digest in output: `sha256:0123…` -> `0123456789ab`
(12 hex digits, as `docker ps` and `docker images` show them). Used by plan rendering, status,
listings and the executors' messages."""

from __future__ import annotations

SHORT = 12


def short_id(value: str) -> str:
    """`sha256:0123456789abcdef...` or a bare 64-hex ID -> `0123456789ab`."""
    return value.removeprefix("sha256:")[:SHORT]
