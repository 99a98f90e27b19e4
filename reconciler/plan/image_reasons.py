"""Why a built image is rebuilt, in words: from the manifest label of the image present and
the new build source. Pure; called by plan/images.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model.labels import LABEL_MANIFEST, decode_manifest

NAMES_SHOWN = 3


def describe_source_change(labels: Mapping[str, str], source: Any) -> str:
    """Why the source hash differs, from the manifest label: the changed files first."""
    old = decode_manifest(labels.get(LABEL_MANIFEST))
    if old is None:
        return "source changed"
    parts: list[str] = []
    old_files = old.get("files")
    if isinstance(old_files, dict):
        new_files = dict(source.manifest)
        changed = sorted(
            p for p in set(old_files) | set(new_files) if old_files.get(p) != new_files.get(p)
        )
        if changed:
            shown = ", ".join(changed[:NAMES_SHOWN])
            more = f" and {len(changed) - NAMES_SHOWN} more" if len(changed) > NAMES_SHOWN else ""
            parts.append(f"source changed: {shown}{more}")
    old_inputs = old.get("inputs") or {}
    names = {
        "dockerfile": "Dockerfile changed",
        "dockerfile_path": "dockerfile changed",
        "args": "build args changed",
        "target": "build target changed",
        "labels": "build labels changed",
    }
    for field, text in names.items():
        if old_inputs.get(field) != source.inputs.get(field) and not (
            field == "dockerfile" and any(p.startswith("source changed") for p in parts)
        ):
            parts.append(text)
    return "; ".join(parts) or "source changed"
