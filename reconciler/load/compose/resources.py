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
        err: Callable[..., None],
        link: Callable[[PathT, PathT], None],
        host_path: Callable[[str], str],
    ):
        self.err = err
        self.link = link
        self.host_path = host_path

    def file_source(self, section: str, key: str, d: Any) -> dict[str, Any]:
        """A top-level secret or config: file (a host path), environment, content, name."""
        d = d if isinstance(d, dict) else {}
        out = {k: d[k] for k in ("environment", "content", "name", "external") if k in d}
        if isinstance(d.get("file"), str):
            out["file"] = self.host_path(d["file"])
        if "external" in out:
            out["external"] = boolean(out["external"])
        return out

    def network(self, key: str, n: Any) -> dict[str, Any]:
        n = n if isinstance(n, dict) else {}
        out = self.resource(n)
        if n.get("driver") is not None:
            out["driver"] = n["driver"]
        if "internal" in n:
            out["internal"] = boolean(n["internal"])
        for option in ("attachable", "enable_ipv6"):
            if option in n:
                out[option] = boolean(n[option])
        if n.get("driver_opts"):
            out["driver_opts"] = {str(k): text(x) for k, x in n["driver_opts"].items()}
        ipam = n.get("ipam") if isinstance(n.get("ipam"), dict) else {}
        pools = ipam.get("config") or []
        only_subnet = set(ipam) <= {"config"} and len(pools) == 1 and isinstance(pools[0], dict)
        if ipam and not (only_subnet and set(pools[0]) == {"subnet"}):
            out["ipam"] = ipam  # spec v1's ipam has Compose's form
        elif pools and pools[0].get("subnet"):
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
