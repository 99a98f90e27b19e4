"""Memory, CPU and process limits of a container entry (mem_limit, memswap_limit,
mem_reservation, shm_size, cpus, cpu_shares, cpuset, pids_limit, deploy.resources) and the
readers that load/normalize/runtime.py shares (`Limits` is RuntimeFields' base class).

Part of the fields shared with Compose (issue 13); parsers in runtime_values.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.load.hints import type_problem
from reconciler.load.normalize import runtime_values as V
from reconciler.load.normalize.fields import Fields
from reconciler.load.source import PathT
from reconciler.model import container_options as O


class Limits(Fields):
    """Reads the limits; `_parse` and `_items` are shared with RuntimeFields."""

    def _parse(self, parser: Callable[[Any], Any], value: Any, path: PathT) -> Any:
        try:
            return parser(value)
        except ValueError as exc:
            self.err(path, str(exc))
            return None

    def _items(self, d: Mapping[str, Any], key: str, path: PathT) -> list[tuple[Any, PathT]]:
        value = d.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(type_problem(self.doc, (*path, key), "a list", value))
            return []
        return [(item, (*path, key, i)) for i, item in enumerate(value)]

    def _strings(self, d: Mapping[str, Any], key: str, path: PathT, one: bool = False) -> list[str]:
        if one and isinstance(d.get(key), str):  # dns: 8.8.8.8 (one value)
            return [d[key]]
        return [s for v, p in self._items(d, key, path) if (s := self.string(v, p)) is not None]

    def _resources(self, d: Mapping[str, Any], path: PathT) -> dict[str, Any]:
        """Memory/CPU/pids limits, deploy.resources, and their consistency."""
        out: dict[str, Any] = {}
        sizes = (
            ("shm_size", V.parse_size),
            ("mem_limit", V.parse_size),
            ("mem_reservation", V.parse_size),
        )
        for key, parser in sizes:
            if d.get(key) is not None:
                out[key] = self._parse(lambda v, k=key, f=parser: f(v, k), d[key], (*path, key))
        if d.get("memswap_limit") is not None:
            out["memswap_limit"] = self._parse(
                lambda v: V.parse_limit_size(v, "memswap_limit"),
                d["memswap_limit"],
                (*path, "memswap_limit"),
            )
        if d.get("cpus") is not None:
            out["cpus"] = self._parse(V.parse_cpus, d["cpus"], (*path, "cpus"))
        if d.get("cpuset") is not None:
            out["cpuset"] = self._parse(V.parse_cpuset, d["cpuset"], (*path, "cpuset"))
        if d.get("cpu_shares") is not None:
            out["cpu_shares"] = self.integer(d, "cpu_shares", path, None, minimum=2)
        if d.get("pids_limit") is not None:
            out["pids_limit"] = self.integer(d, "pids_limit", path, None, minimum=-1)
        if d.get("deploy") is not None:
            out["deploy"] = self._deploy(d["deploy"], (*path, "deploy"))
        deploy: O.DeployResources | None = out.get("deploy")
        if deploy is not None:
            pairs = (
                ("mem_limit", deploy.limits.memory, "limits", "memory"),
                ("cpus", deploy.limits.cpus, "limits", "cpus"),
                ("pids_limit", deploy.limits.pids, "limits", "pids"),
                ("mem_reservation", deploy.reservations.memory, "reservations", "memory"),
            )
            for key, value, side, name in pairs:
                if value is not None and out.get(key) is not None and out[key] != value:
                    self.err(
                        (*path, key),
                        f"{key} and deploy.resources.{side}.{name} differ: set one of them",
                    )
        memory = out.get("mem_limit") or (deploy.limits.memory if deploy else None)
        swap = out.get("memswap_limit")
        if swap is not None and swap != -1:
            if memory is None:
                self.err((*path, "memswap_limit"), "memswap_limit needs mem_limit")
            elif swap < memory:
                self.err(
                    (*path, "memswap_limit"),
                    "memswap_limit (memory + swap) must be at least mem_limit",
                )
        reservation = out.get("mem_reservation") or (deploy.reservations.memory if deploy else None)
        if memory and reservation and reservation > memory:
            self.err((*path, "mem_reservation"), "mem_reservation must not exceed the memory limit")
        return out

    def _deploy(self, value: Any, path: PathT) -> O.DeployResources:
        d = self.mapping(value, path)
        for key in d:
            if key != "resources":
                self.err(
                    (*path, key),
                    f"deploy.{key} is not supported outside Swarm (only deploy.resources)",
                    at_key=True,
                )
        r = self.mapping(d.get("resources"), (*path, "resources"))
        sides = {}
        for side in ("limits", "reservations"):
            spath = (*path, "resources", side)
            s = self.mapping(r.get(side), spath)
            for key in s:
                if key not in ("cpus", "memory", "pids") or (
                    side == "reservations" and key == "pids"
                ):
                    self.err(
                        (*spath, key),
                        f"deploy.resources.{side}.{key} is not supported",
                        at_key=True,
                    )
            cpus = (
                self._parse(V.parse_cpus, s["cpus"], (*spath, "cpus"))
                if s.get("cpus") is not None
                else None
            )
            memory = (
                self._parse(lambda v: V.parse_size(v, "memory"), s["memory"], (*spath, "memory"))
                if s.get("memory") is not None
                else None
            )
            pids = self.integer(s, "pids", spath, None, minimum=-1) if side == "limits" else None
            sides[side] = O.ResourceValues(cpus, memory, pids)
        return O.DeployResources(sides["limits"], sides["reservations"])
