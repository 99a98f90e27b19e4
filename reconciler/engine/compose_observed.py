"""Containers that `docker compose up` (v2 or docker-compose 1.x) created, as observed values:
called by engine/client.py's `observe` for the containers of the same list call (no extra
request), so that the planner can name them and `apply --adopt-compose` can take them over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace

from reconciler.engine.translate import observed_container
from reconciler.model.labels import COMPOSE_NUMBER, COMPOSE_PROJECT, COMPOSE_SERVICE
from reconciler.model.state import ObservedContainer


def compose_observed(
    raw: Mapping[str, Any], name: str, labels: Mapping[str, str]
) -> ObservedContainer:
    """The container with its Compose service as key and its container number as replica
    (1 when the label is missing or bad); no recorded config or hash."""
    observed = observed_container(raw, name, labels)
    try:
        number = int(labels.get(COMPOSE_NUMBER) or 1)
    except ValueError:
        number = 1
    return replace(
        observed,
        project=labels.get(COMPOSE_PROJECT, ""),
        key=labels.get(COMPOSE_SERVICE, ""),
        replica=max(number, 1),
        config=None,
        config_hash=None,
    )
