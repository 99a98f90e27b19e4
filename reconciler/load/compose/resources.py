"""Top-level Compose `networks` and `volumes` -> spec v1 `networks` and `volumes` entries
(external, name, labels in list or mapping form, driver, driver_opts, one ipam subnet).
Called by load/compose/translate.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.load.compose.values import boolean, text
from reconciler.load.source import PathT


class Resources:
    def __init__(
        self,
        err: Callable[[PathT, str], None],
        link: Callable[[PathT, PathT], None],
    ):
        self.err = err
        self.link = link

    def network(self, key: str, n: Any) -> dict[str, Any]:
        n = n if isinstance(n, dict) else {}
        out = self.resource(n)
        if n.get("driver") is not None:
            out["driver"] = n["driver"]
        if "internal" in n:
            out["internal"] = boolean(n["internal"])
        ipam = n.get("ipam") if isinstance(n.get("ipam"), dict) else {}
        pools = ipam.get("config") or []
        if len(pools) > 1:
            self.err(
                ("networks", key, "ipam", "config", 1),
                "more than one ipam pool is not supported yet",
            )
        if pools and isinstance(pools[0], dict) and pools[0].get("subnet"):
            out["subnet"] = pools[0]["subnet"]
            self.link(("networks", key, "subnet"), ("networks", key, "ipam", "config", 0, "subnet"))
        return out

    def volume(self, key: str, v: Any) -> dict[str, Any]:
        v = v if isinstance(v, dict) else {}
        out = self.resource(v)
        if v.get("driver") is not None:
            out["driver"] = v["driver"]
        if v.get("driver_opts"):
            out["driver_opts"] = {str(k): text(x) for k, x in v["driver_opts"].items()}
        return out

    def resource(self, d: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        external = d.get("external")
        if isinstance(external, dict):  # the old `external: {name: x}`
            out["external"] = True
            if external.get("name"):
                out["name"] = external["name"]
        elif external is not None:
            out["external"] = boolean(external)
        if d.get("name") is not None:
            out["name"] = d["name"]
        if d.get("labels"):
            labels = d["labels"]
            if isinstance(labels, list):
                labels = dict(str(x).partition("=")[::2] for x in labels)
            out["labels"] = {str(k): text(x) for k, x in labels.items()}
        return out
