"""Single values of a spec: image references, durations, port bindings, host paths, words.

Each parser raises ValueError with the message shown to the user (or returns the reason, for
references); the section normalisers (load/normalize/*) locate it. Also used by
load/semantics.py (references) and watch/specsource.py (host paths).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
from pathlib import Path
from typing import Any

from reconciler.load.source import kind_of
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


def port_number(text: str, what: str) -> int:
    """A port number 1-65535 from text; `what` names it in the error."""
    if not text.isdigit():
        raise ValueError(f"invalid {what} {text!r}: expected a number from 1 to 65535")
    n = int(text)
    if not 1 <= n <= 65535:
        raise ValueError(f"invalid {what} {n}: expected a number from 1 to 65535")
    return n


def host_ports(text: str) -> tuple[int | None, int | None]:
    """`8080` or `8080-8082` -> (start, end or None); "" -> (None, None)."""
    if text == "":
        return None, None
    if "-" in text:
        lo_s, _, hi_s = text.partition("-")
        lo = port_number(lo_s, "host port")
        hi = port_number(hi_s, "host port")
        if hi < lo:
            raise ValueError(f"invalid host port range {text!r}: the end is before the start")
        return lo, hi
    return port_number(text, "host port"), None


def parse_host_ip(text: str) -> str:
    """An IPv4 or IPv6 address (IPv6 may be in brackets), normalised."""
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
        host_ip = parse_host_ip(body[: end + 1])
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
            host_ip = parse_host_ip(parts[0]) if parts[0] else ""
            host, container = parts[1], parts[2]
        else:
            raise ValueError(
                f"invalid port {text!r}: expected [[HOST_IP:]HOST:]CONTAINER[/PROTOCOL] "
                "(put an IPv6 host IP in brackets)"
            )
    lo, hi = host_ports(host) if host is not None else (None, None)
    if hi == lo and hi is not None:
        hi = None  # "8080-8080" is one port
    if "-" in container:
        return container_range(text, container, protocol, host_ip, lo, hi)
    container_port = port_number(container, "container port")
    return S.PortBinding(container_port, protocol, host_ip, lo, hi)


def container_range(
    text: str, container: str, protocol: str, host_ip: str, lo: int | None, hi: int | None
) -> S.PortBinding:
    """A container port range "8000-8009" (host ports: none, or a range of the same size)."""
    first, _, last = container.partition("-")
    start, end = port_number(first, "container port"), port_number(last, "container port")
    if end < start:
        raise ValueError(f"invalid port {text!r}: the container range runs backwards")
    if lo is not None and (hi or lo) - lo != end - start:
        raise ValueError(
            f"invalid port {text!r}: the host range must have as many ports as the container range"
        )
    end_or_none = end if end != start else None
    return S.PortBinding(start, protocol, host_ip, lo, hi, container_port_end=end_or_none)


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
