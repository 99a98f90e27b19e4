"""The `containers` section -> ContainerSpec (model/spec.py): image, command, env and env
files, ports, volumes, restart, depends_on, healthcheck, networks and the other fields.

Called by load/normalize/normalizer.py; references to other entries (images, containers,
networks), port clashes and names are checked later by load/semantics.py, which finds each
normalised port's path in `port_paths`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from msgspec import structs

from reconciler.errors import Problem
from reconciler.load.envfile import read_env_file
from reconciler.load.hints import type_problem
from reconciler.load.normalize.bindings import Bindings
from reconciler.load.normalize.fields import Fields
from reconciler.load.normalize.runtime import RuntimeFields
from reconciler.load.normalize.runtime_values import parse_ip
from reconciler.load.normalize.scalars import (
    CONTAINER_NAME_RE,
    HOSTNAME_RE,
    RESTART_NAMES,
    resolve_host_path,
)
from reconciler.load.source import Document, PathT, render_path
from reconciler.model import spec as S


class Containers(Fields):
    """Normalises container entries; remembers where each kept port binding was written."""

    def __init__(self, doc: Document, environ: Mapping[str, str], problems: list[Problem]):
        super().__init__(doc, environ, problems)
        self.bindings = Bindings(doc, environ, problems)
        self.runtime = RuntimeFields(doc, environ, problems)  # the fields shared with Compose
        self.port_paths: dict[str, list[PathT]] = {}  # container key -> path of each port

    def container(self, key: str, value: Any) -> S.ContainerSpec | None:
        path: PathT = ("containers", key)
        d = self.mapping(value, path)
        image = self.opt_string(d, "image", path)
        if image is None and "image" not in d:
            self.err(path, 'missing required key "image"', at_key=True)
        env = self.env(d, path)
        ports = []
        raw_ports = d.get("ports") or []
        if not isinstance(raw_ports, list):
            self.problems.append(type_problem(self.doc, (*path, "ports"), "a list", raw_ports))
            raw_ports = []
        port_paths = self.port_paths.setdefault(key, [])
        for i, item in enumerate(raw_ports):
            port = self.bindings.port(item, (*path, "ports", i))
            if port is not None:
                ports.append(structs.replace(port, location=self.doc.location((*path, "ports", i))))
                port_paths.append((*path, "ports", i))
        mounts = []
        raw_volumes = d.get("volumes") or []
        if not isinstance(raw_volumes, list):
            self.problems.append(type_problem(self.doc, (*path, "volumes"), "a list", raw_volumes))
            raw_volumes = []
        targets: dict[str, int] = {}
        for i, item in enumerate(raw_volumes):
            mount = self.bindings.mount(item, (*path, "volumes", i))
            if mount is None:
                continue
            if mount.target in targets:
                self.err(
                    (*path, "volumes", i),
                    f"{mount.target} is already mounted by volumes[{targets[mount.target]}]",
                )
                continue
            targets[mount.target] = i
            mounts.append(mount)
        wkey = "working_dir" if "working_dir" in d else "workdir"  # Compose's name, an alias
        if "working_dir" in d and "workdir" in d:
            self.err((*path, "working_dir"), "workdir and working_dir are the same: set one")
        workdir = self.opt_string(d, wkey, path)
        if workdir is not None and not workdir.startswith("/"):
            self.err((*path, wkey), f"must be an absolute path, not {workdir!r}")
        name = self.opt_string(d, "name", path)
        if name is not None and not CONTAINER_NAME_RE.match(name):
            self.err(
                (*path, "name"),
                f"invalid container name {name!r}: use letters, digits, _, . and -, "
                "starting with a letter or digit",
            )
        hostname = self.opt_string(d, "hostname", path)
        if hostname is not None and not HOSTNAME_RE.match(hostname):
            self.err((*path, "hostname"), f"invalid hostname {hostname!r}")
        state = self.opt_string(d, "state", path) or "running"
        if state not in S.CONTAINER_STATES:
            self.err(
                (*path, "state"), f"must be one of {', '.join(S.CONTAINER_STATES)}, not {state!r}"
            )
            state = "running"
        exec_steps = []
        raw_exec = d.get("exec") or []
        if not isinstance(raw_exec, list):
            self.problems.append(type_problem(self.doc, (*path, "exec"), "a list", raw_exec))
            raw_exec = []
        for i, step in enumerate(raw_exec):
            if isinstance(step, str):
                exec_steps.append(("sh", "-c", step))
            else:
                words = self.words(step, (*path, "exec", i))
                if words is not None:
                    if not words:
                        self.err((*path, "exec", i), "an exec step must not be empty")
                    else:
                        exec_steps.append(words)
        fields = dict(
            key=key,
            image=image,
            command=self.words(d.get("command"), (*path, "command")),
            entrypoint=self.words(d.get("entrypoint"), (*path, "entrypoint")),
            env=env,
            ports=tuple(ports),
            volumes=tuple(mounts),
            workdir=workdir,
            user=self.opt_string(d, "user", path),
            restart=self.restart(d, path),
            replicas=self.integer(d, "replicas", path, 1, minimum=0),
            depends_on=self.depends_on(d.get("depends_on"), (*path, "depends_on")),
            healthcheck=self.healthcheck(d.get("healthcheck"), (*path, "healthcheck")),
            labels=self.str_map(d.get("labels"), (*path, "labels")),
            state=state,
            exec=tuple(exec_steps),
            stop_timeout=self.duration(d, "stop_timeout", path),
            init=self.boolean(d, "init", path),
            name=name,
            hostname=hostname,
            networks=self.networks_of(d.get("networks"), (*path, "networks")),
            location=self.loc(path),
        )
        fields.update(self.runtime.read(d, path))
        if image is None:
            return None
        return S.ContainerSpec(**fields)

    def env(self, d: Mapping[str, Any], path: PathT) -> dict[str, str]:
        merged: dict[str, str] = {}
        files = d.get("env_file")
        if files is not None:
            items = [(files, (*path, "env_file"))] if isinstance(files, str) else None
            if items is None:
                if isinstance(files, list):
                    items = [(f, (*path, "env_file", i)) for i, f in enumerate(files)]
                else:
                    self.problems.append(
                        type_problem(self.doc, (*path, "env_file"), "a string or a list", files)
                    )
                    items = []
            for item, ipath in items:
                required = True
                if isinstance(item, dict):  # Compose's long form {path, required}
                    required = self.boolean(item, "required", ipath, True)
                    item, ipath = item.get("path"), (*ipath, "path")
                name = self.string(item, ipath)
                if name is None:
                    continue
                file = Path(resolve_host_path(name, self.folder))
                if not required and not file.exists():
                    continue
                if not file.is_file():
                    what = "is a directory" if file.is_dir() else "not found"
                    self.err(ipath, f"env file {what}: {file}")
                    continue
                display = self.doc.display_path(name)
                values, problems = read_env_file(file, display)
                rendered = render_path(ipath)
                self.problems.extend(structs.replace(p, path=rendered) for p in problems)
                merged.update(values)
        merged.update(self.str_map(d.get("env"), (*path, "env")))
        return merged

    def restart(self, d: Mapping[str, Any], path: PathT) -> S.RestartPolicy:
        value = d.get("restart")
        if value is None:
            return S.RestartPolicy()
        if value is False:  # `restart: no` unquoted is a YAML boolean; it means "no"
            return S.RestartPolicy("no")
        text = self.string(value, (*path, "restart"))
        if text is None:
            return S.RestartPolicy()
        name, colon, retries = text.partition(":")
        if name not in RESTART_NAMES or (colon and name != "on-failure"):
            self.err(
                (*path, "restart"),
                "must be one of no, always, on-failure, on-failure:N, unless-stopped, "
                f"not {text!r}",
            )
            return S.RestartPolicy()
        if colon:
            if not retries.isdigit():
                self.err((*path, "restart"), f"invalid retry count {retries!r} in {text!r}")
                return S.RestartPolicy()
            return S.RestartPolicy(name, int(retries))
        return S.RestartPolicy(name)

    def depends_on(self, value: Any, path: PathT) -> tuple[S.Dependency, ...]:
        if value is None:
            return ()
        out = []
        if isinstance(value, list):
            for i, item in enumerate(value):
                s = self.string(item, (*path, i))
                if s is not None:
                    out.append(S.Dependency(s))
            return tuple(out)
        if not isinstance(value, dict):
            self.problems.append(type_problem(self.doc, path, "a list or a mapping", value))
            return ()
        for target, cond in value.items():
            cpath = (*path, target)
            flags = {}
            if isinstance(cond, dict):
                keys = ("restart", "required")
                flags = {k: self.boolean(cond, k, cpath, k == "required") for k in keys}
                cond, cpath = cond.get("condition", "started"), (*cpath, "condition")
            if cond is None:
                cond = "started"
            c = self.string(cond, cpath)
            if c is None:
                continue
            if c not in S.DEPENDENCY_CONDITIONS:
                compose = {
                    "service_started": "started",
                    "service_healthy": "healthy",
                    "service_completed_successfully": "completed",
                }
                hint = f'write "{compose[c]}"' if c in compose else None
                self.err(
                    cpath,
                    f"must be one of {', '.join(S.DEPENDENCY_CONDITIONS)}, not {c!r}",
                    hint,
                )
                continue
            out.append(S.Dependency(target, c, **flags))
        return tuple(out)

    def healthcheck(self, value: Any, path: PathT) -> S.Healthcheck | None:
        if value is None:
            return None
        d = self.mapping(value, path)
        test = d.get("test")
        if test is None:
            self.err(path, 'missing required key "test"', at_key=True)
            return None
        if isinstance(test, str):
            words: tuple[str, ...] | None = ("CMD-SHELL", test)
        else:
            words = self.words(test, (*path, "test"))
            if words is None:
                return None
            if not words or words[0] not in ("CMD", "CMD-SHELL", "NONE"):
                self.err(
                    (*path, "test"),
                    'a test list starts with "CMD", "CMD-SHELL" or "NONE"',
                    f'write ["CMD", {", ".join(repr(w).replace(chr(39), chr(34)) for w in words)}]'
                    if words
                    else None,
                )
                return None
            if words[0] == "NONE" and len(words) > 1:
                self.err((*path, "test"), '"NONE" takes no arguments')
                return None
            if words[0] in ("CMD", "CMD-SHELL") and len(words) == 1:
                self.err((*path, "test"), f'"{words[0]}" needs a command after it')
                return None
            if words[0] == "CMD-SHELL" and len(words) > 2:
                self.err((*path, "test"), '"CMD-SHELL" takes one string (the shell command)')
                return None
        return S.Healthcheck(
            test=words,
            interval=self.duration(d, "interval", path),
            timeout=self.duration(d, "timeout", path),
            retries=self.integer(d, "retries", path, None, minimum=0),
            start_period=self.duration(d, "start_period", path),
            start_interval=self.duration(d, "start_interval", path),
        )

    def networks_of(self, value: Any, path: PathT) -> tuple[S.NetworkAttachment, ...]:
        if value is None:
            return ()
        if isinstance(value, list):
            out = []
            for i, item in enumerate(value):
                s = self.string(item, (*path, i))
                if s is not None:
                    out.append(S.NetworkAttachment(s))
            return tuple(out)
        if not isinstance(value, dict):
            self.problems.append(type_problem(self.doc, path, "a list or a mapping", value))
            return ()
        out = []
        for key, opts in value.items():
            o = self.mapping(opts, (*path, key))
            aliases = o.get("aliases") or []
            if not isinstance(aliases, list):
                self.problems.append(
                    type_problem(self.doc, (*path, key, "aliases"), "a list", aliases)
                )
                aliases = []
            names = [
                a
                for i, a in enumerate(aliases)
                if self.string(a, (*path, key, "aliases", i)) is not None
            ]
            addresses = {}
            for version, field_ in ((4, "ipv4_address"), (6, "ipv6_address")):
                address = self.opt_string(o, field_, (*path, key))
                if address is not None:
                    try:
                        addresses[field_] = parse_ip(address, version, field_)
                    except ValueError as exc:
                        self.err((*path, key, field_), str(exc))
            out.append(S.NetworkAttachment(key, tuple(names), **addresses))
        return tuple(out)
