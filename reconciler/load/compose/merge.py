"""The Compose model as a tree with origins, and Compose's merge rules.

A `Tree` is plain data plus `origins`: model path -> (Document, path in that document) for
every place where data came from somewhere else (another `-f` file, an extended service, an
included file). `Tree.where(path)` finds the nearest origin, so an error anywhere in the merged
model names the FILE:LINE:COLUMN where the value was written.

Merge rules (Compose Specification, "Merge"): mappings merge key by key; sequences append;
`command`, `entrypoint` and `healthcheck.test` are replaced; `ports`, `volumes`, `secrets` and
`configs` are unique by their key (a later entry with the same key replaces the earlier one);
`environment`, `labels`, `build.args`, `depends_on`, service `networks`, `sysctls`,
`extra_hosts` and `ulimits` are mappings (their list form is converted first). Called by
load/compose/resolve.py (extends, include, -f files).
"""

from __future__ import annotations

import copy
from typing import Any

from msgspec import Struct, field

from reconciler.errors import Problem
from reconciler.load.source import Document, PathT, render_path

Origin = tuple[Document, PathT]

REPLACED = frozenset({"command", "entrypoint"})
# service keys whose list form is KEY=VALUE (or KEY alone), merged by key
KV_LISTS = frozenset({"environment", "labels", "sysctls", "annotations"})
NAME_LISTS = frozenset({"depends_on", "networks"})  # a list of names = a mapping name -> None
UNIQUE = frozenset({"ports", "volumes", "secrets", "configs"})


class Tree(Struct):
    """A Compose model with its origins: built and merged by resolve.py, read by the rest of
    load/compose (checks, translate, bindings)."""

    data: dict[str, Any]
    origins: dict[PathT, Origin] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: Document, data: dict[str, Any]) -> Tree:
        return cls(data, {(): (doc, ())})

    def where(self, path: PathT) -> Origin:
        """The document and its path where `path` of the model was written."""
        path = tuple(path)
        for cut in range(len(path), -1, -1):
            origin = self.origins.get(path[:cut])
            if origin is not None:
                doc, at = origin
                return doc, (*at, *path[cut:])
        raise LookupError(path)  # every tree has an origin at ()

    def problem(
        self, path: PathT, message: str, hint: str | None = None, at_key: bool = False
    ) -> Problem:
        """A problem at the model's `path`, located where that value was written."""
        doc, at = self.where(path)
        location = doc.key_location(at) if at_key else doc.location(at)
        return Problem(message, location, render_path(path), hint)

    def graft(self, path: PathT, other: Tree, other_path: PathT) -> None:
        """Record that the model's `path` now holds `other`'s value at `other_path`."""
        for key in [k for k in self.origins if k[: len(path)] == tuple(path) and k != ()]:
            del self.origins[key]
        self.origins[tuple(path)] = other.where(other_path)
        n = len(other_path)
        for key, origin in other.origins.items():
            if len(key) > n and key[:n] == tuple(other_path):
                self.origins[(*path, *key[n:])] = origin


def canonical_service(tree: Tree, path: PathT) -> None:
    """Convert a service's list forms to mappings (origins kept per entry) in place."""
    service = _get(tree.data, path)
    if not isinstance(service, dict):
        return
    for key in (*KV_LISTS, *NAME_LISTS, "extra_hosts"):
        value = service.get(key)
        if isinstance(value, list):
            service[key] = _list_to_map(tree, (*path, key), value, key)
    build = service.get("build")
    if isinstance(build, dict):
        for key in ("args", "labels"):
            if isinstance(build.get(key), list):
                build[key] = _list_to_map(tree, (*path, "build", key), build[key], key)


def _list_to_map(tree: Tree, path: PathT, items: list[Any], key: str) -> Any:
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            return items  # not convertible: left for the checks to report
        text = str(item)
        if key in NAME_LISTS:
            name, value = text, None
        elif key == "extra_hosts":
            sep = "=" if "=" in text else ":"
            name, _, value = text.partition(sep)
        else:
            name, eq, rest = text.partition("=")
            value = rest if eq else None
        out[name] = value
        tree.origins[(*path, name)] = tree.where((*path, i))
    for i in range(len(items)):
        tree.origins.pop((*path, i), None)
    return out


def _get(data: Any, path: PathT) -> Any:
    for part in path:
        if isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
            continue
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def merge_into(base: Tree, path: PathT, over: Tree, over_path: PathT) -> None:
    """Merge `over`'s value at `over_path` into `base`'s at `path` (Compose's rules)."""
    value = _get(over.data, over_path)
    parent = _get(base.data, path[:-1]) if path else None
    current = _get(base.data, path)
    name = path[-1] if path else None
    if path and (not isinstance(current, dict) or not isinstance(value, dict)):
        if (
            isinstance(current, list)
            and isinstance(value, list)
            and name not in REPLACED
            and path[-2:] != ("healthcheck", "test")
        ):
            _merge_list(base, path, current, over, over_path, value, str(name))
            return
        assert isinstance(parent, (dict, list))  # `path` exists in base
        parent[name] = copy.deepcopy(value)  # type: ignore[index]
        base.graft(path, over, over_path)
        return
    target = base.data if not path else current
    for key, sub in value.items():
        if key not in target:
            target[key] = copy.deepcopy(sub)
            base.graft((*path, key), over, (*over_path, key))
        else:
            merge_into(base, (*path, key), over, (*over_path, key))


def _merge_list(
    base: Tree, path: PathT, current: list, over: Tree, over_path: PathT, value: list, name: str
) -> None:
    keys = [unique_key(name, item) for item in current] if name in UNIQUE else None
    for j, item in enumerate(value):
        if keys is not None:
            k = unique_key(name, item)
            if k in keys:
                i = keys.index(k)
                current[i] = copy.deepcopy(item)
                base.graft((*path, i), over, (*over_path, j))
                continue
            keys.append(k)
        elif item in current:
            continue
        current.append(copy.deepcopy(item))
        base.graft((*path, len(current) - 1), over, (*over_path, j))


def unique_key(name: str, item: Any) -> Any:
    """The uniqueness key of a ports/volumes/secrets/configs entry."""
    if name == "volumes":
        if isinstance(item, dict):
            return item.get("target")
        parts = str(item).split(":")
        return parts[1] if len(parts) > 1 else parts[0]
    if name == "ports":
        if isinstance(item, dict):
            return (
                item.get("host_ip"),
                str(item.get("target")),
                str(item.get("published")),
                item.get("protocol", "tcp"),
            )
        return str(item)
    if isinstance(item, dict):  # secrets, configs
        return item.get("target") or item.get("source")
    return item
