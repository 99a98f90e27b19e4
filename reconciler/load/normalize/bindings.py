"""Port bindings and mounts of a container entry -> PortBinding and Mount (model/spec.py).

Called by load/normalize/containers.py for each item of `ports:` and `volumes:`, in the short
string form or the long mapping form.
"""

from __future__ import annotations

import os
from typing import Any

from msgspec import structs

from reconciler.load.hints import type_problem
from reconciler.load.normalize.fields import Fields
from reconciler.load.normalize.scalars import (
    PROTOCOLS,
    VOLUME_MODES,
    VOLUME_NAME_RE,
    container_range,
    host_ports,
    is_path_source,
    parse_host_ip,
    parse_port,
    port_number,
    resolve_host_path,
)
from reconciler.load.source import PathT
from reconciler.model import spec as S

PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")
_MOUNT_WORDS = ("ro", "rw", "z", "Z", "nocopy", *PROPAGATIONS)


def _is_options(text: str) -> bool:
    """ "ro", "rw,z", "Z", "nocopy", "ro,rshared": the options of a short-form mount."""
    words = text.split(",")
    modes = [w for w in words if w in VOLUME_MODES]
    unique = len(set(words)) == len(words)
    return all(w in _MOUNT_WORDS for w in words) and len(modes) <= 1 and unique


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
                is_range = isinstance(container, str) and "-" in container
                container_port = 0 if is_range else port_number(str(container), "container port")
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
                if is_range:  # "8000-8009": a container port range
                    return container_range(str(container), container, protocol, host_ip, lo, hi)
                mode = value.get("mode")  # target swarm: ingress | host (schema-checked)
                mode = mode if isinstance(mode, str) else None
                return S.PortBinding(container_port, protocol, host_ip, lo, hi, mode=mode)
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
                if _is_options(parts[1]) and parts[0].startswith("/"):
                    source, target, mode = None, parts[0], parts[1]
                else:
                    source, target = parts
            elif len(parts) == 3:
                source, target, mode = parts
            else:
                self.err(path, f"invalid volume {value!r}: expected [SOURCE:]TARGET[:ro|rw]")
                return None
            if mode is not None and not _is_options(mode):
                self.err(
                    path,
                    f"invalid volume mode {mode!r}: expected ro or rw, and z, Z, nocopy or a "
                    "propagation (rprivate, private, rshared, shared, rslave, slave), "
                    "comma-separated",
                )
                return None
            words = (mode or "").split(",")
            options = {
                "selinux": next((w for w in words if w in ("z", "Z")), None),
                "propagation": next((w for w in words if w in PROPAGATIONS), None),
                "nocopy": "nocopy" in words,
                "create_host_path": False,  # spec v1 keeps its rule: the source must exist
            }
            mount = self._mount(path, source, target, "ro" in words, None)
            return self._with_options(mount, options, path)
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
            mount = self._mount(path, source or None, target, read_only, kind)
            bind = self.mapping(value.get("bind"), (*path, "bind"))
            volume = self.mapping(value.get("volume"), (*path, "volume"))
            options = {
                "selinux": self.opt_string(bind, "selinux", (*path, "bind")),
                "propagation": self.opt_string(bind, "propagation", (*path, "bind")),
                "create_host_path": self.boolean(bind, "create_host_path", (*path, "bind")),
                "nocopy": self.boolean(volume, "nocopy", (*path, "volume")),
            }
            return self._with_options(mount, options, path)
        self.problems.append(type_problem(self.doc, path, "a string or a mapping", value))
        return None

    def _with_options(
        self, mount: S.Mount | None, options: dict[str, Any], path: PathT
    ) -> S.Mount | None:
        """Mount options: z/Z, propagation and create_host_path for binds, nocopy for volumes."""
        if mount is None:
            return None
        if options["selinux"] not in (None, "z", "Z"):
            self.err((*path, "bind", "selinux"), f"must be z or Z, not {options['selinux']!r}")
            return None
        if options["propagation"] not in (None, *PROPAGATIONS):
            self.err(
                (*path, "bind", "propagation"),
                f"must be one of {', '.join(PROPAGATIONS)}, not {options['propagation']!r}",
            )
            return None
        bind_only = ("selinux", "propagation", "create_host_path")
        for key in bind_only if mount.kind != "bind" else ("nocopy",):
            if options[key]:
                kind = "volume" if key == "nocopy" else "bind"
                self.err(path, f"{key} applies only to a {kind} mount")
                return None
        return structs.replace(mount, **options)

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
