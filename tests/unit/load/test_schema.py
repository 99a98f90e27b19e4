"""The JSON Schema itself: well-formed, documented, closed, packaged, and in step with the
loader (every example and a full spec pass it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jsonschema import Draft202012Validator

import reconciler
from reconciler.load.schema import schema

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = ROOT / "schemas" / "spec.schema.json"


def walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}/{i}")


def test_schema_is_valid_draft_2020_12():
    data = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(data)
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert data["$id"]


def test_every_property_has_a_description():
    missing = []
    for path, node in walk(json.loads(SCHEMA_FILE.read_text())):
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub:
                missing.append(f"{path}/properties/{name}")
    assert missing == []


def test_every_object_is_closed():
    open_objects = []
    for path, node in walk(json.loads(SCHEMA_FILE.read_text())):
        if "properties" in node and node.get("additionalProperties") is not False:
            open_objects.append(path)
        if node.get("type") == "object" and "additionalProperties" not in node:
            open_objects.append(path)
    assert open_objects == []


def test_package_copy_is_a_relative_symlink():
    link = Path(reconciler.__file__).parent / "load" / "spec.schema.json"
    assert link.is_symlink()
    assert not os.path.isabs(os.readlink(link))
    assert link.resolve() == SCHEMA_FILE.resolve()
    assert schema() == json.loads(SCHEMA_FILE.read_text())
