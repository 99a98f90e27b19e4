"""The `networks` and `volumes` sections -> NetworkSpec and VolumeSpec (model/spec.py).

Called by load/normalize/normalizer.py. A network or volume not named explicitly gets the
engine name `<project>_<key>` (an external one: its key).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from reconciler.load.normalize.fields import ProjectFields
from reconciler.load.normalize.scalars import VOLUME_NAME_RE
from reconciler.load.source import PathT
from reconciler.model import container_options as O
from reconciler.model import spec as S


class Resources(ProjectFields):
    """Normalises network and volume entries of a project."""

    def engine_name(self, d: Mapping[str, Any], path: PathT, what: str) -> str | None:
        """An explicit `name:` of a network or volume: the engine accepts letters, digits,
        _, . and -, starting with a letter or digit."""
        name = self.opt_string(d, "name", path)
        if name is not None and not VOLUME_NAME_RE.match(name):
            self.err(
                (*path, "name"),
                f"invalid {what} name {name!r}: use letters, digits, _, . and -, "
                "starting with a letter or digit",
            )
        return name

    def network(self, key: str, value: Any) -> S.NetworkSpec:
        path: PathT = ("networks", key)
        d = self.mapping(value, path)
        external = self.boolean(d, "external", path)
        explicit = self.engine_name(d, path, "network")
        subnet = self.opt_string(d, "subnet", path)
        if subnet is not None:
            try:
                subnet = str(ipaddress.ip_network(subnet, strict=True))
            except ValueError as exc:
                self.err((*path, "subnet"), f"invalid subnet {subnet!r}: {exc}")
        name = explicit or (key if external else f"{self.project}_{key}")
        return S.NetworkSpec(
            key=key,
            name=name,
            driver=self.opt_string(d, "driver", path) or "bridge",
            internal=self.boolean(d, "internal", path),
            labels=self.str_map(d.get("labels"), (*path, "labels")),
            subnet=subnet,
            external=external,
            **self.network_options(d, path),
            location=self.loc(path),
        )

    def network_options(self, d: Mapping[str, Any], path: PathT) -> dict[str, Any]:
        """Compose's ipam, driver_opts, enable_ipv6 and attachable (absent when unset)."""
        out: dict[str, Any] = {}
        if d.get("driver_opts") is not None:
            out["driver_opts"] = self.str_map(d["driver_opts"], (*path, "driver_opts"), False)
        for key in ("enable_ipv6", "attachable"):
            if d.get(key) is not None:
                out[key] = self.boolean(d, key, path)
        if d.get("ipam") is None:
            return out
        ipam = self.mapping(d["ipam"], (*path, "ipam"))
        pools = []
        raw = ipam.get("config") or []
        if not isinstance(raw, list):
            self.err((*path, "ipam", "config"), "must be a list of pools")
            raw = []
        for i, item in enumerate(raw):
            ppath: PathT = (*path, "ipam", "config", i)
            pool = self.mapping(item, ppath)
            values = {k: self.opt_string(pool, k, ppath) for k in ("subnet", "ip_range", "gateway")}
            for k, v in values.items():
                if v is None:
                    continue
                try:
                    ok = ipaddress.ip_network(v, strict=True) if k != "gateway" else None
                    values[k] = str(ok) if ok else str(ipaddress.ip_address(v))
                except ValueError as exc:
                    self.err((*ppath, k), f"invalid {k} {v!r}: {exc}")
            aux = self.str_map(pool.get("aux_addresses"), (*ppath, "aux_addresses"), False)
            pools.append(O.IpamPool(**values, aux_addresses=aux))
        if pools and d.get("subnet") is not None:
            self.err((*path, "subnet"), "subnet and ipam.config both set the subnet: use one")
        options = self.str_map(ipam.get("options"), (*path, "ipam", "options"), False)
        driver = self.opt_string(ipam, "driver", (*path, "ipam"))
        out["ipam"] = O.Ipam(driver, tuple(pools), options)
        return out

    def volume(self, key: str, value: Any) -> S.VolumeSpec:
        path: PathT = ("volumes", key)
        d = self.mapping(value, path)
        external = self.boolean(d, "external", path)
        explicit = self.engine_name(d, path, "volume")
        name = explicit or (key if external else f"{self.project}_{key}")
        return S.VolumeSpec(
            key=key,
            name=name,
            driver=self.opt_string(d, "driver", path) or "local",
            driver_opts=self.str_map(
                d.get("driver_opts"), (*path, "driver_opts"), allow_list=False
            ),
            labels=self.str_map(d.get("labels"), (*path, "labels")),
            external=external,
            location=self.loc(path),
        )
