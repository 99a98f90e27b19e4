"""From a (schema-checked) spec document to the frozen dataclasses of spec.py.

Every parser here is defensive: a value of the wrong shape becomes a located Problem, never
an exception, so that `validate` can report everything at once. The cross-entry checks
(references between entries, port clashes, files that must exist) live in validate.py.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import Location, Problem
from reconciler.load.source import Document, PathT, kind_of, render_path
from reconciler.model import spec as S

PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KEY_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
CONTAINER_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
VOLUME_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
HOSTNAME_RE = re.compile(
    r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
PROTOCOLS = ("tcp", "udp", "sctp")
RESTART_NAMES = ("no", "always", "on-failure", "unless-stopped")
VOLUME_MODES = ("ro", "rw")

# Docker image references (distribution/reference grammar, simplified).
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG_RE = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE_RE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG_RE}))?(?:@(?P<digest>{_DIGEST}))?$"
)


def reference_problem(ref: str) -> str | None:
    """Why `ref` is not a valid image reference, or None when it is."""
    if not ref:
        return "an image reference must not be empty"
    if ref != ref.strip() or any(c.isspace() for c in ref):
        return f"invalid image reference {ref!r}: it contains whitespace"
    m = REFERENCE_RE.match(ref)
    if not m:
        lowered = ref.lower()
        if lowered != ref and REFERENCE_RE.match(_lower_path(ref)):
            return f"invalid image reference {ref!r}: the repository name must be lowercase"
        return f"invalid image reference {ref!r}"
    name = (m.group("domain") + "/" if m.group("domain") else "") + m.group("path")
    if len(name) > 255:
        return f"invalid image reference {ref!r}: the name is longer than 255 characters"
    return None


def _lower_path(ref: str) -> str:
    head, sep, rest = ref.partition("/")
    if sep and ("." in head or ":" in head or head == "localhost"):
        return head + "/" + rest.lower()
    return ref.lower()


def parse_duration(value: Any) -> float:
    """`5s`, `1m30s`, `500ms`, `1.5h`, or a plain number of seconds -> float seconds."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a duration like 5s or 1m30s, not {kind_of(value)}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration must not be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like 5s or 1m30s, not {kind_of(value)}")
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if number < 0 or number != number or number in (float("inf"),):
            raise ValueError("a duration must be a finite number of seconds, not negative")
        return number
    if not text:
        raise ValueError("expected a duration like 5s or 1m30s, not an empty string")
    pos = 0
    total = 0.0
    while pos < len(text):
        m = DURATION_PART.match(text, pos)
        if not m:
            raise ValueError(
                f"invalid duration {value!r}: expected a number and a unit (ns, us, ms, s, m, h), "
                "like 5s, 1m30s or 500ms"
            )
        total += float(m.group(1)) * DURATION_UNITS[m.group(2)]
        pos = m.end()
    return total


def _port_number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"invalid {what} {text!r}: expected a number from 1 to 65535")
    n = int(text)
    if not 1 <= n <= 65535:
        raise ValueError(f"invalid {what} {n}: expected a number from 1 to 65535")
    return n


def _host_ports(text: str) -> tuple[int | None, int | None]:
    if text == "":
        return None, None
    if "-" in text:
        lo_s, _, hi_s = text.partition("-")
        lo = _port_number(lo_s, "host port")
        hi = _port_number(hi_s, "host port")
        if hi < lo:
            raise ValueError(f"invalid host port range {text!r}: the end is before the start")
        return lo, hi
    return _port_number(text, "host port"), None


def _host_ip(text: str) -> str:
    raw = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise ValueError(f"invalid host IP {text!r}: expected an IPv4 or IPv6 address") from None


def parse_port(text: str) -> S.PortBinding:
    """`[[HOST_IP:]HOST[-END]:]CONTAINER[/PROTOCOL]`; an IPv6 host IP goes in brackets."""
    body, slash, protocol = text.strip().partition("/")
    protocol = protocol.lower() if slash else "tcp"
    if protocol not in PROTOCOLS:
        raise ValueError(f"invalid protocol {protocol!r}: expected tcp, udp or sctp")
    host_ip = ""
    if body.startswith("["):
        end = body.find("]")
        if end < 0 or body[end + 1 : end + 2] != ":":
            raise ValueError(f"invalid port {text!r}: expected [IPv6]:HOST:CONTAINER")
        host_ip = _host_ip(body[: end + 1])
        rest = body[end + 2 :]
        parts = rest.split(":")
        if len(parts) != 2:
            raise ValueError(f"invalid port {text!r}: expected [IPv6]:HOST:CONTAINER")
        host, container = parts
    else:
        parts = body.split(":")
        if len(parts) == 1:
            host, container = None, parts[0]
        elif len(parts) == 2:
            host, container = parts
            if host == "":
                raise ValueError(f"invalid port {text!r}: the host port is empty")
        elif len(parts) == 3:
            host_ip = _host_ip(parts[0]) if parts[0] else ""
            host, container = parts[1], parts[2]
        else:
            raise ValueError(
                f"invalid port {text!r}: expected [[HOST_IP:]HOST:]CONTAINER[/PROTOCOL] "
                "(put an IPv6 host IP in brackets)"
            )
    if "-" in container:
        raise ValueError(
            f"invalid port {text!r}: container port ranges are not supported; list each port"
        )
    container_port = _port_number(container, "container port")
    lo, hi = _host_ports(host) if host is not None else (None, None)
    if hi == lo and hi is not None:
        hi = None  # "8080-8080" is one port
    return S.PortBinding(container_port, protocol, host_ip, lo, hi)


def is_path_source(source: str) -> bool:
    return source.startswith(("/", ".", "~"))


def resolve_host_path(source: str, folder: Path) -> str:
    expanded = os.path.expanduser(source)
    return os.path.normpath(os.path.join(folder, expanded))


def shell_words(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise ValueError(f"cannot split {text!r} into words: {exc}") from None


# --- type problems with YAML 1.1 hints ----------------------------------------------------------


def quote_hint(doc: Document, path: PathT, value: Any) -> str | None:
    """The hint for a scalar that YAML turned into something other than a string."""
    mark = doc.mark_at(path)
    if mark is None or mark.raw is None or mark.style or isinstance(value, (dict, list, str)):
        return None
    if "$" in mark.raw:
        return None
    raw = mark.raw
    if value is None:
        return 'write "" for an empty string' if raw in ("", "~") else f'quote it: "{raw}"'
    if isinstance(value, bool):
        if raw.lower() in ("true", "false"):
            return f'quote it: "{raw}"'
        return f'YAML 1.1 reads {raw} as {str(value).lower()}; quote it: "{raw}"'
    if isinstance(value, int) and ":" in raw:
        return f'YAML 1.1 reads {raw} as the number {value}; quote it: "{raw}"'
    if isinstance(value, int) and re.match(r"^[-+]?0[0-7_]+$", raw):
        return f'YAML 1.1 reads {raw} as the octal number {value}; quote it: "{raw}"'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'quote it: "{raw}"'
    return f'YAML reads {raw} as {kind_of(value)}; quote it: "{raw}"'


def yaml_trap(doc: Document, path: PathT, value: Any) -> Problem | None:
    """Numbers YAML 1.1 makes out of text that does not look like one: sexagesimal
    (`22:22` -> 1342) and octal (`0755` -> 493)."""
    mark = doc.mark_at(path)
    if mark is None or mark.style or mark.raw is None or isinstance(value, bool):
        return None
    if "$" in mark.raw:  # the value came from a variable, not from YAML's resolver
        return None
    raw = mark.raw
    if isinstance(value, (int, float)) and ":" in raw:
        return doc.problem(
            path, f"YAML 1.1 reads {raw} as the number {value:g}", f'quote it: "{raw}"'
        )
    if isinstance(value, int) and re.match(r"^[-+]?0[0-7_]+$", raw) and value != 0:
        return doc.problem(
            path,
            f"YAML 1.1 reads {raw} as the octal number {value}",
            f'quote it: "{raw}", or write {value} if you mean that number',
        )
    return None


def type_problem(doc: Document, path: PathT, expected: str, value: Any) -> Problem:
    return doc.problem(
        path, f"must be {expected}, not {kind_of(value)}", quote_hint(doc, path, value)
    )


# --- the normaliser ------------------------------------------------------------------------------


class Normalizer:
    def __init__(
        self,
        doc: Document,
        data: Mapping[str, Any],
        environ: Mapping[str, str],
        skip: set[PathT] | None = None,
    ):
        self.doc = doc
        self.data = data
        self.environ = environ
        self.folder = doc.folder
        self.problems: list[Problem] = []
        self.skip = skip or set()  # sections of the wrong type: not normalised
        self.project = ""
        self.port_paths: dict[str, list[PathT]] = {}  # container key -> path of each port

    # helpers
    def err(self, path: PathT, message: str, hint: str | None = None, at_key=False) -> None:
        self.problems.append(self.doc.problem(path, message, hint, at_key))

    def loc(self, path: PathT) -> Location:
        return self.doc.key_location(path)

    def string(self, value: Any, path: PathT) -> str | None:
        if isinstance(value, str):
            return value
        self.problems.append(type_problem(self.doc, path, "a string", value))
        return None

    def opt_string(self, d: Mapping, key: str, path: PathT) -> str | None:
        if key not in d or d[key] is None:
            return None
        return self.string(d[key], (*path, key))

    def mapping(self, value: Any, path: PathT) -> Mapping[str, Any]:
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self.problems.append(type_problem(self.doc, path, "a mapping", value))
        return {}

    def str_map(self, value: Any, path: PathT, allow_list: bool = True) -> dict[str, str]:
        """A mapping of strings, or (Compose style) a list of "KEY=VALUE"."""
        out: dict[str, str] = {}
        if value is None:
            return out
        if isinstance(value, list) and allow_list:
            for i, item in enumerate(value):
                s = self.string(item, (*path, i))
                if s is None:
                    continue
                k, eq, v = s.partition("=")
                if not k:
                    self.err((*path, i), f"expected KEY=VALUE, not {s!r}")
                    continue
                if not eq:
                    env_value = self.environ.get(k)  # "KEY" alone: taken from the environment
                    if env_value is not None:
                        out[k] = env_value
                    continue
                out[k] = v
            return out
        if not isinstance(value, dict):
            expected = "a mapping or a list of KEY=VALUE" if allow_list else "a mapping"
            self.problems.append(type_problem(self.doc, path, expected, value))
            return out
        for k, v in value.items():
            if v is None:
                self.err(
                    (*path, k), "must be a string, not null", f'write {k}: "" for an empty value'
                )
                continue
            s = self.string(v, (*path, k))
            if s is not None:
                out[k] = s
        return out

    def words(self, value: Any, path: PathT) -> tuple[str, ...] | None:
        """A command: a string (split like a shell) or a list of strings."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return shell_words(value)
            except ValueError as exc:
                self.err(path, str(exc))
                return None
        if isinstance(value, list):
            out = []
            for i, item in enumerate(value):
                s = self.string(item, (*path, i))
                if s is not None:
                    out.append(s)
            return tuple(out)
        self.problems.append(type_problem(self.doc, path, "a string or a list of strings", value))
        return None

    def duration(self, d: Mapping, key: str, path: PathT) -> float | None:
        if key not in d or d[key] is None:
            return None
        try:
            return parse_duration(d[key])
        except ValueError as exc:
            self.err((*path, key), str(exc))
            return None

    def integer(self, d: Mapping, key: str, path: PathT, default: int | None, minimum=0):
        if key not in d or d[key] is None:
            return default
        value = d[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(type_problem(self.doc, (*path, key), "an integer", value))
            return default
        if value < minimum:
            self.err((*path, key), f"must be at least {minimum}, not {value}")
            return default
        return value

    def boolean(self, d: Mapping, key: str, path: PathT, default: bool = False) -> bool:
        if key not in d or d[key] is None:
            return default
        value = d[key]
        if not isinstance(value, bool):
            self.problems.append(type_problem(self.doc, (*path, key), "true or false", value))
            return default
        return value

    def section(self, data: Mapping[str, Any], name: str):
        if (name,) in self.skip:
            return []
        return list(self.mapping(data.get(name), (name,)).items())

    # --- top level --------------------------------------------------------------------------
    def spec(self, project_override: str | None) -> S.Spec:
        data = self.data
        project = data.get("project")
        if project_override is not None:
            project = project_override
            if not PROJECT_RE.match(project):
                self.problems.append(
                    Problem(
                        f"invalid project name {project!r} (from --project): use lowercase "
                        "letters, digits, - and _, starting with a letter or digit",
                        None,
                        "project",
                    )
                )
        elif (
            isinstance(project, str)
            and not PROJECT_RE.match(project)
            and ("project",) not in self.skip
        ):
            self.err(
                ("project",),
                f"invalid project name {project!r}: use lowercase letters, digits, - and _, "
                "starting with a letter or digit",
            )
        self.project = project if isinstance(project, str) else ""

        images = {}
        for key, value in self.section(data, "images"):
            image = self.image(key, value)
            if image is not None:
                images[key] = image
        containers = {}
        for key, value in self.section(data, "containers"):
            container = self.container(key, value)
            if container is not None:
                containers[key] = container
        networks = {}
        for key, value in self.section(data, "networks"):
            networks[key] = self.network(key, value)
        volumes = {}
        for key, value in self.section(data, "volumes"):
            volumes[key] = self.volume(key, value)
        version = data.get("version", 1)
        return S.Spec(
            project=self.project,
            path=str(self.doc.path),
            version=version if isinstance(version, int) else 1,
            images=images,
            containers=containers,
            networks=networks,
            volumes=volumes,
        )

    # --- images -----------------------------------------------------------------------------
    def image(self, key: str, value: Any) -> S.ImageSpec | None:
        path: PathT = ("images", key)
        location = self.loc(path)
        if isinstance(value, str):  # shorthand: `base: busybox:1` = pull
            value = {"pull": value}
        d = self.mapping(value, path)
        kinds = [k for k in ("pull", "build", "commit") if k in d]
        if len(kinds) != 1:
            if not kinds:
                self.err(path, "an image needs one of pull, build or commit", at_key=True)
            else:
                self.err(
                    (*path, kinds[1]),
                    f"an image has exactly one of pull, build or commit, not both "
                    f"{kinds[0]} and {kinds[1]}",
                    at_key=True,
                )
            return None
        kind = kinds[0]
        tag = self.opt_string(d, "tag", path)
        if tag is not None:
            if kind == "pull":
                self.err(
                    (*path, "tag"),
                    "tag is only for build and commit; pull names the reference itself",
                    at_key=True,
                )
            elif (why := reference_problem(tag)) is not None:
                self.err((*path, "tag"), why)
        policy = self.opt_string(d, "policy", path) or "if-missing"
        if "policy" in d and kind != "pull":
            self.err((*path, "policy"), "policy is only for pull", at_key=True)
        elif policy not in S.PULL_POLICIES:
            self.err(
                (*path, "policy"), f"must be one of {', '.join(S.PULL_POLICIES)}, not {policy!r}"
            )
        if kind == "pull":
            ref = self.string(d["pull"], (*path, "pull"))
            if ref is None:
                return None
            if (why := reference_problem(ref)) is not None:
                self.err((*path, "pull"), why)
            return S.ImageSpec(key, "pull", ref, policy=policy, location=location)
        reference = tag or S.default_image_tag(self.project, key)
        if tag is None and self.project and reference_problem(reference) is not None:
            self.err(
                path,
                f"the default tag {reference} is not a valid image reference",
                "set tag:, or use a lowercase key without a trailing - or .",
                at_key=True,
            )
        if kind == "build":
            build = self.build((*path, "build"), d["build"])
            if build is None:
                return None
            return S.ImageSpec(key, "build", reference, build=build, location=location)
        commit = self.commit((*path, "commit"), d["commit"])
        if commit is None:
            return None
        return S.ImageSpec(key, "commit", reference, commit=commit, location=location)

    def build(self, path: PathT, value: Any) -> S.BuildSpec | None:
        if isinstance(value, str):
            value = {"context": value}
        d = self.mapping(value, path)
        context = self.opt_string(d, "context", path) or "."
        dockerfile = self.opt_string(d, "dockerfile", path) or "Dockerfile"
        return S.BuildSpec(
            context=resolve_host_path(context, self.folder),
            dockerfile=dockerfile,
            args=self.str_map(d.get("args"), (*path, "args")),
            target=self.opt_string(d, "target", path),
            labels=self.str_map(d.get("labels"), (*path, "labels")),
        )

    def commit(self, path: PathT, value: Any) -> S.CommitSpec | None:
        d = self.mapping(value, path)
        base = self.opt_string(d, "from", path)
        if base is None:
            if "from" not in d:
                self.err(path, 'missing required key "from"', at_key=True)
            return None
        run_value = d.get("run", [])
        if isinstance(run_value, str):
            run_value = [run_value]
        steps: list[str] = []
        if isinstance(run_value, list):
            for i, step in enumerate(run_value):
                s = self.string(step, (*path, "run", i))
                if s is not None:
                    steps.append(s)
        elif run_value is not None:
            self.problems.append(
                type_problem(self.doc, (*path, "run"), "a list of strings", run_value)
            )
        cpath = (*path, "changes")
        c = self.mapping(d.get("changes"), cpath)
        expose: list[str] = []
        raw_expose = c.get("expose") or []
        if not isinstance(raw_expose, list):
            self.problems.append(type_problem(self.doc, (*cpath, "expose"), "a list", raw_expose))
            raw_expose = []
        for i, item in enumerate(raw_expose):
            ipath = (*cpath, "expose", i)
            if isinstance(item, int) and not isinstance(item, bool):
                item = str(item)
            s = self.string(item, ipath)
            if s is None:
                continue
            number, slash, proto = s.partition("/")
            try:
                _port_number(number, "port")
                if slash and proto not in PROTOCOLS:
                    raise ValueError(f"invalid protocol {proto!r}: expected tcp, udp or sctp")
            except ValueError as exc:
                self.err(ipath, str(exc))
                continue
            expose.append(s)
        changes = S.CommitChanges(
            cmd=self.words(c.get("cmd"), (*cpath, "cmd")),
            entrypoint=self.words(c.get("entrypoint"), (*cpath, "entrypoint")),
            env=self.str_map(c.get("env"), (*cpath, "env")),
            workdir=self.opt_string(c, "workdir", cpath),
            expose=tuple(expose),
            user=self.opt_string(c, "user", cpath),
            labels=self.str_map(c.get("labels"), (*cpath, "labels")),
        )
        return S.CommitSpec(base=base, run=tuple(steps), changes=changes)

    # --- containers -------------------------------------------------------------------------
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
            port = self.port(item, (*path, "ports", i))
            if port is not None:
                ports.append(port)
                port_paths.append((*path, "ports", i))
        mounts = []
        raw_volumes = d.get("volumes") or []
        if not isinstance(raw_volumes, list):
            self.problems.append(type_problem(self.doc, (*path, "volumes"), "a list", raw_volumes))
            raw_volumes = []
        targets: dict[str, int] = {}
        for i, item in enumerate(raw_volumes):
            mount = self.mount(item, (*path, "volumes", i))
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
        workdir = self.opt_string(d, "workdir", path)
        if workdir is not None and not workdir.startswith("/"):
            self.err((*path, "workdir"), f"must be an absolute path, not {workdir!r}")
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
        if image is None:
            return None
        return S.ContainerSpec(**fields)

    def env(self, d: Mapping[str, Any], path: PathT) -> dict[str, str]:
        from reconciler.load.envfile import read_env_file

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
                name = self.string(item, ipath)
                if name is None:
                    continue
                file = Path(resolve_host_path(name, self.folder))
                if not file.is_file():
                    what = "is a directory" if file.is_dir() else "not found"
                    self.err(ipath, f"env file {what}: {file}")
                    continue
                display = self.doc.display_path(name)
                values, problems = read_env_file(file, display)
                rendered = render_path(ipath)
                self.problems.extend(dataclasses.replace(p, path=rendered) for p in problems)
                merged.update(values)
        merged.update(self.str_map(d.get("env"), (*path, "env")))
        return merged

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
                container_port = _port_number(str(container), "container port")
                protocol = value.get("protocol", "tcp")
                if protocol not in PROTOCOLS:
                    raise ValueError(f"invalid protocol {protocol!r}: expected tcp, udp or sctp")
                host_ip = value.get("host_ip") or ""
                if not isinstance(host_ip, str):
                    self.problems.append(
                        type_problem(self.doc, (*path, "host_ip"), "a string", host_ip)
                    )
                    return None
                host_ip = _host_ip(host_ip) if host_ip else ""
                host = value.get("host")
                if host is None:
                    lo, hi = None, None
                elif isinstance(host, bool) or not isinstance(host, (int, str)):
                    self.problems.append(
                        type_problem(self.doc, (*path, "host"), "a port number or range", host)
                    )
                    return None
                else:
                    lo, hi = _host_ports(str(host))
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
            if isinstance(cond, dict):
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
            out.append(S.Dependency(target, c))
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
            out.append(S.NetworkAttachment(key, tuple(names)))
        return tuple(out)

    # --- networks and volumes ---------------------------------------------------------------
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
