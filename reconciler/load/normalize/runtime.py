"""The container fields shared with Compose (issue 13) -> keyword values of ContainerSpec.

`RuntimeFields.read(d, path)` reads expose, secrets, configs, stop_signal, capabilities,
privileged, security_opt, read_only, tmpfs, devices, sysctls, ulimits, sizes and CPU/memory
limits, deploy.resources, extra_hosts, dns*, network_mode, mac_address, platform, runtime, tty,
stdin_open, logging and pull_policy of one `containers:` entry. Called by
load/normalize/containers.py; every bad value is a located Problem (via Fields.err). Whether a
secret, config or `service:KEY` exists is checked by load/normalize/crossrefs.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.load.hints import type_problem
from reconciler.load.normalize import runtime_values as V
from reconciler.load.normalize.limits import Limits
from reconciler.load.source import PathT
from reconciler.model import container_options as O
from reconciler.model.spec import PULL_POLICIES

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_PLATFORM = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_.]+)?$")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
PULL_POLICY_ALIASES = {"missing": "if-missing", "if_not_present": "if-missing"}
NETWORK_MODE_FORMS = "host, none, bridge, container:NAME or service:KEY"


class RuntimeFields(Limits):
    """Reads the fields shared with Compose; returns only those written (others default)."""

    def read(self, d: Mapping[str, Any], path: PathT) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "expose" in d:
            ports = {p for v, p_ in self._items(d, "expose", path) for p in self._expose(v, p_)}
            out["expose"] = tuple(sorted(ports, key=_port_order))
        for kind in ("secrets", "configs"):
            if kind in d:
                out[kind] = tuple(self._file_use(kind, v, p) for v, p in self._items(d, kind, path))
                out[kind] = tuple(u for u in out[kind] if u is not None)
        if d.get("stop_signal") is not None:
            out["stop_signal"] = self._parse(
                V.parse_signal, d["stop_signal"], (*path, "stop_signal")
            )
        for key in ("cap_add", "cap_drop"):
            if key in d:
                caps = {self._parse(V.parse_capability, v, p) for v, p in self._items(d, key, path)}
                out[key] = tuple(sorted(c for c in caps if c))
        for key in ("security_opt", "dns_opt"):
            if key in d:
                out[key] = tuple(sorted({s for s in self._strings(d, key, path)}))
        for key in ("dns", "dns_search"):
            if key in d:  # order kept: resolvers and search domains are tried in order
                out[key] = tuple(dict.fromkeys(self._strings(d, key, path, one=True)))
        if "dns" in out:
            for i, server in enumerate(out["dns"]):
                self._parse(
                    lambda v: V.parse_ip(v, 6 if ":" in v else 4, "DNS server"),
                    server,
                    (*path, "dns", i),
                )
        for key in ("privileged", "read_only", "tty", "stdin_open"):
            if key in d:
                out[key] = self.boolean(d, key, path)
        if "tmpfs" in d:
            out["tmpfs"] = dict(sorted(self._tmpfs(d, path).items()))
        if "devices" in d:
            devices = [
                self._parse(V.parse_device, v, p) for v, p in self._items(d, "devices", path)
            ]
            out["devices"] = tuple(sorted({x for x in devices if x}, key=lambda x: x.container))
        if "sysctls" in d:
            out["sysctls"] = self._sysctls(d["sysctls"], (*path, "sysctls"))
        if "ulimits" in d:
            out["ulimits"] = self._ulimits(d["ulimits"], (*path, "ulimits"))
        out.update(self._resources(d, path))
        if "extra_hosts" in d:
            out["extra_hosts"] = self._extra_hosts(d["extra_hosts"], (*path, "extra_hosts"))
        if d.get("network_mode") is not None:
            out["network_mode"] = self._network_mode(d, path)
        checks: tuple[tuple[str, re.Pattern[str], str], ...] = (
            ("mac_address", _MAC, "a MAC address like 02:42:ac:11:00:02"),
            ("platform", _PLATFORM, "OS/ARCH[/VARIANT], e.g. linux/amd64"),
            ("runtime", _NAME, "a runtime name like runc"),
        )
        for key, pattern, expected in checks:
            value = self.opt_string(d, key, path)
            if value is not None:
                if not pattern.match(value):
                    self.err((*path, key), f"invalid {key} {value!r}: expected {expected}")
                out[key] = value.lower() if key == "mac_address" else value
        if d.get("logging") is not None:
            out["logging"] = self._logging(d["logging"], (*path, "logging"))
        policy = self.opt_string(d, "pull_policy", path)
        if policy is not None:
            policy = PULL_POLICY_ALIASES.get(policy, policy)
            if policy not in PULL_POLICIES:
                self.err(
                    (*path, "pull_policy"),
                    f"must be one of {', '.join(PULL_POLICIES)} (or Compose's missing, "
                    f"if_not_present), not {d['pull_policy']!r}",
                )
            out["pull_policy"] = policy
        return out

    def _expose(self, value: Any, path: PathT) -> list[str]:
        return self._parse(V.parse_expose, value, path) or []

    def _file_use(self, kind: str, value: Any, path: PathT) -> O.FileUse | None:
        default_dir = O.SECRETS_DIR if kind == "secrets" else ""
        if isinstance(value, str):
            return O.FileUse(value, f"{default_dir}/{value}")
        d = self.mapping(value, path)
        source = self.opt_string(d, "source", path)
        if source is None:
            self.err(path, 'missing required key "source"', at_key=True)
            return None
        target = self.opt_string(d, "target", path) or source
        if not target.startswith("/"):  # Compose: a relative secret target is under /run/secrets
            target = f"{default_dir}/{target}"
        mode = d.get("mode")
        if mode is not None and (isinstance(mode, bool) or not isinstance(mode, (int, str))):
            self.problems.append(type_problem(self.doc, (*path, "mode"), "an octal mode", mode))
            mode = None
        if isinstance(mode, str):
            if not re.match(r"^0?[0-7]{3}$", mode):
                self.err((*path, "mode"), f"invalid mode {mode!r}: expected octal like 0440")
                mode = None
            else:
                mode = int(mode, 8)
        uid, gid = (None if d.get(k) is None else str(d[k]) for k in ("uid", "gid"))
        return O.FileUse(source, target, uid, gid, mode)

    def _tmpfs(self, d: Mapping[str, Any], path: PathT) -> dict[str, str]:
        value = d["tmpfs"]
        items = (
            [(value, (*path, "tmpfs"))] if isinstance(value, str) else self._items(d, "tmpfs", path)
        )
        out: dict[str, str] = {}
        for item, ipath in items:
            parsed = self._parse(V.parse_tmpfs, item, ipath)
            if parsed:
                if parsed[0] in out:
                    self.err(ipath, f"{parsed[0]} is listed twice")
                out[parsed[0]] = parsed[1]
        return out

    def _sysctls(self, value: Any, path: PathT) -> dict[str, str]:
        pairs: list[tuple[str, Any, PathT]] = []
        if isinstance(value, list):
            for i, item in enumerate(value):
                s = self.string(item, (*path, i))
                if s is not None:
                    k, eq, v = s.partition("=")
                    if not eq:
                        self.err((*path, i), f"expected NAME=VALUE, not {s!r}")
                        continue
                    pairs.append((k.strip(), v.strip(), (*path, i)))
        elif isinstance(value, dict):
            pairs = [(k, v, (*path, k)) for k, v in value.items()]
        else:
            self.problems.append(type_problem(self.doc, path, "a mapping or a list", value))
        out = {}
        for k, v, p in pairs:
            text = self._parse(lambda x, k=k: V.check_sysctl(k, x), v, p)
            if text is not None:
                out[k] = text
        return dict(sorted(out.items()))

    def _ulimits(self, value: Any, path: PathT) -> dict[str, O.Ulimit]:
        out = {}
        for name, v in self.mapping(value, path).items():
            limit = self._parse(lambda x, n=name: V.parse_ulimit(n, x), v, (*path, name))
            if limit is not None:
                out[name] = limit
        return dict(sorted(out.items()))

    def _extra_hosts(self, value: Any, path: PathT) -> tuple[str, ...]:
        found: list[str | None] = []
        if isinstance(value, dict):  # Compose's mapping form: {host: ip}
            for host, ip in value.items():
                found.append(
                    self._parse(lambda x, h=host: V.check_extra_host(h, x), ip, (*path, host))
                )
        elif isinstance(value, list):
            for i, item in enumerate(value):
                found.append(self._parse(V.parse_extra_host, item, (*path, i)))
        else:
            self.problems.append(type_problem(self.doc, path, "a list or a mapping", value))
        return tuple(sorted({h for h in found if h}))

    def _network_mode(self, d: Mapping[str, Any], path: PathT) -> str | None:
        mode = self.opt_string(d, "network_mode", path)
        if mode is None:
            return None
        kind, colon, name = mode.partition(":")
        if (colon and (kind not in ("container", "service") or not _NAME.match(name))) or (
            not colon and mode not in O.NETWORK_MODES
        ):
            self.err(
                (*path, "network_mode"),
                f"invalid network_mode {mode!r}: expected {NETWORK_MODE_FORMS}",
            )
            return None
        if d.get("networks") and mode != "bridge":
            self.err(
                (*path, "network_mode"), f"network_mode {mode} cannot be combined with networks"
            )
        if colon:  # container:NAME / service:KEY share that container's network namespace
            for key in ("hostname", "mac_address", "dns", "extra_hosts"):
                if d.get(key):
                    self.err((*path, key), f"{key} cannot be set with network_mode {mode}")
        return mode

    def _logging(self, value: Any, path: PathT) -> O.Logging:
        d = self.mapping(value, path)
        driver = self.opt_string(d, "driver", path)
        if driver is not None and not _NAME.match(driver):
            self.err((*path, "driver"), f"invalid logging driver {driver!r}")
        options = self.str_map(d.get("options"), (*path, "options"), allow_list=False)
        return O.Logging(driver, options)


def _port_order(port: str) -> tuple[int, str]:
    number, _, protocol = port.partition("/")
    return int(number), protocol
