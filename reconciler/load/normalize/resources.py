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
            location=self.loc(path),
        )

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
