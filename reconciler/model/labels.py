"""Labels: ownership names, the config hash, aside names and the image label codec.

Everything the tool creates carries these labels (design.md); nothing without them is ever
changed or removed. Read by the planner (pure) and the engine's observe; stamped by
`stamp()`, the one place that builds a label set, which execute/ calls for containers,
networks, volumes and images alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any

LABEL_PROJECT = "io.reconciler.project"
LABEL_NAME = "io.reconciler.name"
LABEL_REPLICA = "io.reconciler.replica"
LABEL_CONFIG_HASH = "io.reconciler.config-hash"
LABEL_CONFIG = "io.reconciler.config"  # compact JSON of the normalised config, for field diffs
LABEL_SOURCE_HASH = "io.reconciler.source-hash"
LABEL_KIND = "io.reconciler.kind"  # container | image | network | volume
# On images the project builds or commits, besides the ownership labels and the source hash:
LABEL_MANIFEST = "io.reconciler.source-manifest"  # compressed JSON: files and inputs
LABEL_BASES = "io.reconciler.base-images"  # JSON {reference: image id} it was made from
LABEL_REFERENCE = "io.reconciler.reference"  # the tag it was made under

ASIDE_MARK = "--old-"  # a container renamed aside during a replacement: <name>--old-<id12>
# A new container whose exec hooks have not completed yet runs as <name>--hooks-<token>; it is
# renamed to <name> only once they succeed, so the name records whether they did (issue 16).
HOOKS_MARK = "--hooks-"
MANIFEST_LIMIT = 48 * 1024  # characters; beyond it the file list is left out of the label


# --- ownership -----------------------------------------------------------------------------------


def ownership_labels(
    project: str, key: str, kind: str, replica: int | None = None
) -> dict[str, str]:
    labels = {LABEL_PROJECT: project, LABEL_NAME: key, LABEL_KIND: kind}
    if replica is not None:
        labels[LABEL_REPLICA] = str(replica)
    return labels


def stamp(
    project: str,
    key: str,
    kind: str,
    config: Mapping[str, Any],
    replica: int | None = None,
    user_labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full label set of an object the project creates: the user's labels, ownership, the
    config hash and the recorded config (for field diffs in later plans)."""
    labels = dict(user_labels or {})
    labels.update(ownership_labels(project, key, kind, replica))
    labels[LABEL_CONFIG_HASH] = config_hash(config)
    labels[LABEL_CONFIG] = canonical_json(config)
    return labels


def owned_container(labels: Mapping[str, str], project: str) -> bool:
    """A container of `project`: its labels name the project and it is a container. A
    container someone creates from an image the project built inherits the image's labels
    (kind `image`): it is not the project's and is never changed or removed."""
    if labels.get(LABEL_PROJECT) != project:
        return False
    return labels.get(LABEL_KIND, "container") == "container"


# Labels docker compose (v2 and docker-compose 1.x) puts on the containers it creates.
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NUMBER = "com.docker.compose.container-number"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"  # `docker compose run` containers: "True"


def compose_container(labels: Mapping[str, str], project: str) -> bool:
    """A service container that Compose created for a project of this name (not a one-off
    `run` container, and not one of reconciler's): what `apply --adopt-compose` takes over."""
    return (
        labels.get(COMPOSE_PROJECT) == project
        and bool(labels.get(COMPOSE_SERVICE))
        and labels.get(COMPOSE_ONEOFF, "False") != "True"
        and LABEL_PROJECT not in labels
    )


# --- names ---------------------------------------------------------------------------------------


def replica_name(project: str, key: str, replica: int) -> str:
    """Compose-style container names: `<project>-<key>-<replica>`."""
    return f"{project}-{key}-{replica}"


def default_image_tag(project: str, key: str) -> str:
    return f"{project}/{key}:latest"


def aside_name(name: str, container_id: str) -> str:
    return f"{name}{ASIDE_MARK}{container_id[:12]}"


def is_aside(name: str) -> bool:
    return ASIDE_MARK in name


def hooks_pending_name(name: str, token: str) -> str:
    return f"{name}{HOOKS_MARK}{token[:12]}"


def hooks_pending(name: str) -> bool:
    """A container created under a temporary name whose exec hooks never completed."""
    return HOOKS_MARK in name


# --- config hash ---------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


# --- image label codec ---------------------------------------------------------------------------


def encode_manifest(value: Mapping[str, Any]) -> str:
    """Compact label text for a manifest: `z1:` + base64(zlib(JSON)). A file list too large for
    a label is replaced by its size (the plan then says "source changed" without names)."""
    text = _pack(value)
    if len(text) > MANIFEST_LIMIT and "files" in value:
        slim = {k: v for k, v in value.items() if k != "files"}
        slim["file_count"] = len(value.get("files") or {})
        text = _pack(slim)
    return text


def _pack(value: Mapping[str, Any]) -> str:
    raw = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return "z1:" + base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_manifest(text: str | None) -> dict[str, Any] | None:
    if not text or not text.startswith("z1:"):
        return None
    try:
        value = json.loads(zlib.decompress(base64.b64decode(text[3:])))
    except (ValueError, zlib.error):
        return None
    return value if isinstance(value, dict) else None


def decode_bases(text: str | None) -> dict[str, str]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
