"""A service's `ports` and `volumes` items (short and long forms) -> spec v1 items: a port
number becomes text, `IP::PORT` the long form, long-form ports use spec v1's key names;
relative bind sources are resolved beside the Compose file; a named volume must be declared
(as Compose requires); mount options other than ro/rw are refused. Called by
load/compose/translate.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.load.compose.merge import Tree
from reconciler.load.compose.values import boolean, text
from reconciler.load.source import PathT


class Bindings:
    def __init__(
        self,
        tree: Tree,
        err: Callable[..., None],
        link: Callable[[PathT, PathT], None],
        host_path: Callable[[str], str],
    ):
        self.tree = tree
        self.err = err
        self.link = link
        self.host_path = host_path

    def port(self, value: Any, path: PathT) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(int(value))
        if isinstance(value, str):
            parts = value.split(":")
            if len(parts) == 3 and parts[1] == "" and not value.startswith("["):
                container, _, proto = parts[2].partition("/")
                short = {"container": container, "host_ip": parts[0]}
                return {**short, "protocol": proto} if proto else short
            return value
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            if "target" in value:
                out["container"] = text(value["target"])
            if value.get("published") not in (None, ""):
                out["host"] = text(value["published"])
            if value.get("host_ip"):
                out["host_ip"] = value["host_ip"]
            if value.get("protocol"):
                out["protocol"] = value["protocol"]  # mode: one engine publishes either way
            v1 = ("containers", path[1], "ports", path[3])
            self.link((*v1, "container"), (*path, "target"))
            self.link((*v1, "host"), (*path, "published"))
            return out
        return value

    def mount(self, value: Any, path: PathT) -> Any:
        declared = self.tree.data.get("volumes") or {}
        if isinstance(value, str):
            parts = value.split(":")
            source = parts[0] if len(parts) > 1 else None
            if source is not None and source.startswith((".", "~")):
                parts[0] = self.host_path(source)
                return ":".join(parts)
            if source and not source.startswith("/") and source not in declared:
                self.err(
                    path,
                    f"volume {source!r} is not declared in the top-level volumes",
                    "declare it under volumes:, as Compose requires",
                )
            return value
        if isinstance(value, dict):
            kind = value.get("type", "volume")
            if kind not in ("volume", "bind"):
                self.err(
                    (*path, "type"),
                    f"volumes type {kind!r} is not supported yet (volume and bind are)",
                )
                return None
            out: dict[str, Any] = {"type": kind if value.get("source") else "anonymous"}
            if kind == "bind" or value.get("source"):
                out["type"] = kind
            source = value.get("source")
            if source is not None:
                out["source"] = self.host_path(source) if kind == "bind" else source
                if kind == "volume" and source not in declared:
                    self.err(
                        (*path, "source"),
                        f"volume {source!r} is not declared in the top-level volumes",
                        "declare it under volumes:, as Compose requires",
                    )
            out["target"] = value.get("target")
            if "read_only" in value:
                out["read_only"] = boolean(value["read_only"])
            for option in ("bind", "volume"):
                if isinstance(value.get(option), dict):
                    out[option] = value[option]
            return out
        return value
