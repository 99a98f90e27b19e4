"""Port bindings and mounts of a container entry -> PortBinding and Mount (model/spec.py).

Called by load/normalize/containers.py for each item of `ports:` and `volumes:`, in the short
string form or the long mapping form.
"""

from __future__ import annotations

import os
from typing import Any

from reconciler.load.hints import type_problem
from reconciler.load.normalize.fields import Fields
from reconciler.load.normalize.scalars import (
    PROTOCOLS,
    VOLUME_MODES,
    VOLUME_NAME_RE,
    host_ports,
    is_path_source,
    parse_host_ip,
    parse_port,
    port_number,
    resolve_host_path,
)
from reconciler.load.source import PathT
from reconciler.model import spec as S


class Bindings(Fields):
    """Normalises one `ports:` or `volumes:` item at a time."""

    def port(self, value: Any, path: PathT) -> S.PortBinding | None:
        if isinstance(value, str):
            try:
                return parse_port(value)
            except ValueError as exc:
                self.err(path, str(exc))
                return None
        if isinstance(value, dict):
            try:
                container = value.get("container")
                if container is None:
                    self.err(path, 'missing required key "container"')
                    return None
                if isinstance(container, bool) or not isinstance(container, (int, str)):
                    self.problems.append(
                        type_problem(self.doc, (*path, "container"), "a port number", container)
                    )
                    return None
                container_port = port_number(str(container), "container port")
                protocol = value.get("protocol", "tcp")
                if protocol not in PROTOCOLS:
                    raise ValueError(f"invalid protocol {protocol!r}: expected tcp, udp or sctp")
                host_ip = value.get("host_ip") or ""
                if not isinstance(host_ip, str):
                    self.problems.append(
                        type_problem(self.doc, (*path, "host_ip"), "a string", host_ip)
                    )
                    return None
                host_ip = parse_host_ip(host_ip) if host_ip else ""
                host = value.get("host")
                if host is None:
                    lo, hi = None, None
                elif isinstance(host, bool) or not isinstance(host, (int, str)):
                    self.problems.append(
                        type_problem(self.doc, (*path, "host"), "a port number or range", host)
                    )
                    return None
                else:
                    lo, hi = host_ports(str(host))
                    if hi == lo:
                        hi = None
                return S.PortBinding(container_port, protocol, host_ip, lo, hi)
            except ValueError as exc:
                self.err(path, str(exc))
                return None
        self.problems.append(type_problem(self.doc, path, "a string or a mapping", value))
        return None

    def mount(self, value: Any, path: PathT) -> S.Mount | None:
        if isinstance(value, str):
            parts = value.split(":")
            mode = None
            if len(parts) == 1:
                source, target = None, parts[0]
            elif len(parts) == 2:
                if parts[1] in VOLUME_MODES and parts[0].startswith("/"):
                    source, target, mode = None, parts[0], parts[1]
                else:
                    source, target = parts
            elif len(parts) == 3:
                source, target, mode = parts
            else:
                self.err(path, f"invalid volume {value!r}: expected [SOURCE:]TARGET[:ro|rw]")
                return None
            if mode is not None and mode not in VOLUME_MODES:
                self.err(path, f"invalid volume mode {mode!r}: expected ro or rw")
                return None
            return self._mount(path, source, target, mode == "ro", None)
        if isinstance(value, dict):
            kind = value.get("type")
            if kind is not None and kind not in ("volume", "bind", "anonymous"):
                self.err((*path, "type"), f"must be one of volume, bind, anonymous, not {kind!r}")
                return None
            source = value.get("source")
            target = value.get("target")
            if target is None:
                self.err(path, 'missing required key "target"')
                return None
            for k, v in (("source", source), ("target", target)):
                if v is not None and not isinstance(v, str):
                    self.problems.append(type_problem(self.doc, (*path, k), "a string", v))
                    return None
            read_only = self.boolean(value, "read_only", path)
            return self._mount(path, source or None, target, read_only, kind)
        self.problems.append(type_problem(self.doc, path, "a string or a mapping", value))
        return None

    def _mount(self, path, source, target, read_only, kind) -> S.Mount | None:
        if not target.startswith("/"):
            self.err(path, f"the mount target must be an absolute path, not {target!r}")
            return None
        target = os.path.normpath(target)
        if target.startswith("//"):
            target = "/" + target.lstrip("/")
        if kind is None:
            kind = "anonymous" if source is None else "bind" if is_path_source(source) else "volume"
        if kind == "anonymous":
            if source is not None:
                self.err(path, "an anonymous volume has no source")
                return None
            return S.Mount(target, None, "anonymous", read_only)
        if kind == "bind":
            if source is None:
                self.err(path, "a bind mount needs a source path")
                return None
            return S.Mount(target, resolve_host_path(source, self.folder), "bind", read_only)
        if source is None:
            return S.Mount(target, None, "anonymous", read_only)
        if is_path_source(source) or not VOLUME_NAME_RE.match(source):
            self.err(
                path,
                f"invalid volume name {source!r}: use letters, digits, _, . and -"
                + (" (a path needs type: bind)" if is_path_source(source) else ""),
            )
            return None
        return S.Mount(target, source, "volume", read_only)
