"""Pure parsers of the container fields shared with Compose (issue 13): sizes, CPU counts,
signals, capabilities, sysctls, ulimits, devices, extra hosts, tmpfs, exposed ports.

Each takes a value as written and returns the normalised value or raises ValueError with the
message a located Problem shows. Called by load/normalize/runtime.py (spec v1) and usable by
load/compose/ (the same rules for Compose files); no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from reconciler.model.container_options import Device, Ulimit

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
SIGNALS = [
    "ABRT",
    "ALRM",
    "BUS",
    "CHLD",
    "CONT",
    "FPE",
    "HUP",
    "ILL",
    "INT",
    "IO",
    "IOT",
    "KILL",
    "PIPE",
    "POLL",
    "PROF",
    "PWR",
    "QUIT",
    "SEGV",
    "STKFLT",
    "STOP",
    "SYS",
    "TERM",
    "TRAP",
    "TSTP",
    "TTIN",
    "TTOU",
    "URG",
    "USR1",
    "USR2",
    "VTALRM",
    "WINCH",
    "XCPU",
    "XFSZ",
]
_RTSIG = re.compile(r"^RTM(?:IN|AX)(?:[+-]\d+)?$")
_CAP = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SYSCTL = re.compile(r"^[a-zA-Z0-9_-]+(?:[./][a-zA-Z0-9_*-]+)+$")
# namespaced sysctls the engine accepts for a container (runc's validation)
SYSCTL_PREFIXES = ("net.", "fs.mqueue.", "kernel.msg", "kernel.sem", "kernel.shm")
SYSCTL_NAMES = ("kernel.domainname", "kernel.hostname")
ULIMIT_NAMES = [
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
]
_HOSTNAME = re.compile(r"^[a-zA-Z0-9_]([a-zA-Z0-9_.-]*[a-zA-Z0-9_])?$")
_MOUNT_PATH = re.compile(r"^/[^\0]*$")
_TMPFS_OPTION = re.compile(
    r"^(?:size=\d+[kmgKMG%]?|nr_inodes=\d+[kmgKMG]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|"
    r"ro|rw|exec|noexec|suid|nosuid|dev|nodev|atime|noatime|diratime|nodiratime|"
    r"relatime|strictatime|sync|async|dirsync|mand|nomand|tmpcopyup)$"
)


def parse_size(value: Any, what: str = "size") -> int:
    """Bytes from 1024, "512m", "1.5g", "2GB", "64k"; 1k = 1024 bytes (like the docker CLI)."""
    if isinstance(value, bool):
        raise ValueError(f"invalid {what} {value!r}: expected bytes or a size like 512m")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"invalid {what} {value}: must not be negative")
        return value
    if not isinstance(value, str):
        raise ValueError(f"invalid {what} {value!r}: expected bytes or a size like 512m")
    m = _SIZE.match(value)
    if not m or (m.group(3) and m.group(3).lower() == "i"):
        raise ValueError(
            f"invalid {what} {value!r}: expected a number with an optional unit b, k, m, g, t "
            "or p (512m, 1g, 64kb)"
        )
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def parse_limit_size(value: Any, what: str) -> int:
    """A size where -1 means unlimited (memswap_limit)."""
    if value == -1 or value == "-1":
        return -1
    return parse_size(value, what)


def parse_cpus(value: Any) -> float:
    """A CPU count: 0.5, "1.5"; at least 0.01."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"invalid cpus {value!r}: expected a number like 0.5")
    try:
        cpus = float(value)
    except ValueError:
        raise ValueError(f"invalid cpus {value!r}: expected a number like 0.5") from None
    if not cpus > 0 or cpus != cpus or cpus == float("inf"):
        raise ValueError(f"invalid cpus {value!r}: must be more than 0")
    if cpus < 0.01:
        raise ValueError(f"invalid cpus {value!r}: the smallest is 0.01")
    return round(cpus, 9)


def parse_cpuset(value: Any) -> str:
    """ "0-3", "0,2", "1": CPU numbers and ranges."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not re.match(r"^\d+(-\d+)?(,\d+(-\d+)?)*$", text):
        raise ValueError(f"invalid cpuset {value!r}: expected CPU numbers and ranges like 0-3,6")
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        if hi and int(hi) < int(lo):
            raise ValueError(f"invalid cpuset {value!r}: the range {part} runs backwards")
    return text


def parse_signal(value: Any) -> str:
    """ "SIGTERM", "TERM", "sigquit", 9 or "9" -> "SIGTERM", "SIGQUIT", "9"."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"invalid signal {value!r}: expected a name like SIGTERM or a number")
    if value.isdigit():
        if not 1 <= int(value) <= 64:
            raise ValueError(f"invalid signal {value}: a number is between 1 and 64")
        return str(int(value))
    name = value.upper()
    bare = name[3:] if name.startswith("SIG") else name
    if bare not in SIGNALS and not _RTSIG.match(bare):
        raise ValueError(f"unknown signal {value!r}: expected a name like SIGTERM or SIGQUIT")
    return "SIG" + bare


def parse_capability(value: Any) -> str:
    """ "NET_ADMIN", "cap_net_admin", "ALL" -> "NET_ADMIN", "ALL"."""
    if not isinstance(value, str):
        raise ValueError(f"invalid capability {value!r}: expected a name like NET_ADMIN")
    name = value.strip().upper()
    if name.startswith("CAP_"):
        name = name[4:]
    if not _CAP.match(name):
        raise ValueError(f"invalid capability {value!r}: expected a name like NET_ADMIN")
    return name


def check_sysctl(name: str, value: Any) -> str:
    """A namespaced kernel parameter the engine lets a container set; its value as a string."""
    if not isinstance(name, str) or not _SYSCTL.match(name):
        raise ValueError(
            f"invalid sysctl name {name!r}: expected dotted words like net.core.somaxconn"
        )
    if name not in SYSCTL_NAMES and not name.startswith(SYSCTL_PREFIXES):
        raise ValueError(
            f"sysctl {name} is not namespaced: a container may set only net.*, fs.mqueue.*, "
            "kernel.msg*, kernel.sem, kernel.shm* and kernel.hostname/domainname"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"invalid value for sysctl {name}: expected a string or a number")
    text = str(value)
    if not text or "\n" in text:
        raise ValueError(f"invalid value for sysctl {name}: {value!r}")
    return text


def parse_ulimit(name: str, value: Any) -> Ulimit:
    """`nofile: 1024` or `nofile: {soft: 1024, hard: 2048}` (soft <= hard; -1 = unlimited)."""
    if name not in ULIMIT_NAMES:
        raise ValueError(f"unknown ulimit {name!r}: expected one of {', '.join(ULIMIT_NAMES)}")
    if isinstance(value, dict):
        extra = set(value) - {"soft", "hard"}
        if extra or "soft" not in value or "hard" not in value:
            raise ValueError(f"invalid ulimit {name}: expected {{soft: N, hard: N}} or one number")
        soft, hard = _limit(name, value["soft"]), _limit(name, value["hard"])
    else:
        soft = hard = _limit(name, value)
    if hard != -1 and (soft == -1 or soft > hard):
        raise ValueError(f"invalid ulimit {name}: soft {soft} is above hard {hard}")
    return Ulimit(name, soft, hard)


def _limit(name: str, value: Any) -> int:
    if isinstance(value, str) and re.match(r"^-?\d+$", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise ValueError(
            f"invalid ulimit {name} value {value!r}: expected a number (-1: unlimited)"
        )
    return value


def parse_device(value: Any) -> Device:
    """ "/dev/fuse", "/dev/sda:/dev/xvda", "/dev/sda:/dev/xvda:r"."""
    if not isinstance(value, str):
        raise ValueError(f"invalid device {value!r}: expected HOST[:CONTAINER[:PERMISSIONS]]")
    parts = value.split(":")
    if len(parts) > 3 or not parts[0]:
        raise ValueError(f"invalid device {value!r}: expected HOST[:CONTAINER[:PERMISSIONS]]")
    host = parts[0]
    container = parts[1] if len(parts) > 1 and parts[1] else host
    permissions = "rwm"
    if len(parts) == 2 and re.match(r"^[rwm]+$", parts[1]):  # HOST:PERMISSIONS
        container, permissions = host, parts[1]
    elif len(parts) == 3:
        permissions = parts[2]
    if not re.match(r"^[rwm]{1,3}$", permissions) or len(set(permissions)) != len(permissions):
        raise ValueError(f"invalid device permissions {permissions!r}: a subset of rwm")
    for p in (host, container):
        if not p.startswith("/"):
            raise ValueError(f"invalid device {value!r}: {p!r} is not an absolute path")
    return Device(host, container, "".join(c for c in "rwm" if c in permissions))


def parse_extra_host(value: Any) -> str:
    """ "HOST:IP" or "HOST=IP" -> "HOST:IP" (IP may be IPv6, or host-gateway)."""
    if not isinstance(value, str):
        raise ValueError(f"invalid extra host {value!r}: expected HOST:IP")
    host, sep, ip = value.partition("=")
    if not sep:
        host, sep, ip = value.partition(":")
    return check_extra_host(host, ip)


def check_extra_host(host: str, ip: Any) -> str:
    if isinstance(ip, list) and len(ip) == 1:
        ip = ip[0]
    if not isinstance(ip, str) or not host or not _HOSTNAME.match(host):
        raise ValueError(f"invalid extra host {host!r}: expected HOST:IP")
    ip = ip.strip("[]")
    if ip != "host-gateway":
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise ValueError(f"invalid address {ip!r} for extra host {host}") from None
    return f"{host}:{ip}"


def parse_ip(value: Any, version: int, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"invalid {what} {value!r}: expected an IPv{version} address")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"invalid {what} {value!r}: expected an IPv{version} address") from None
    if address.version != version:
        raise ValueError(f"invalid {what} {value!r}: expected an IPv{version} address")
    return str(address)


def parse_tmpfs(value: Any) -> tuple[str, str]:
    """ "/run" or "/run:size=64m,mode=1777" -> (path, options)."""
    if not isinstance(value, str):
        raise ValueError(f"invalid tmpfs {value!r}: expected PATH[:OPTIONS]")
    path, _, options = value.partition(":")
    if not _MOUNT_PATH.match(path) or path == "/":
        raise ValueError(f"invalid tmpfs path {path!r}: expected an absolute path other than /")
    for option in filter(None, options.split(",")):
        if not _TMPFS_OPTION.match(option):
            raise ValueError(f"invalid tmpfs option {option!r} in {value!r}")
    return path.rstrip("/") or "/", options


def parse_expose(value: Any) -> list[str]:
    """ "80", 80, "8000-8002", "53/udp" -> ["80/tcp"], ["8000/tcp", ...], ["53/udp"]."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid exposed port {value!r}: expected PORT[-END][/PROTOCOL]")
    body, slash, protocol = value.partition("/")
    protocol = protocol.lower() if slash else "tcp"
    if protocol not in ("tcp", "udp", "sctp"):
        raise ValueError(f"invalid protocol {protocol!r} in {value!r}: expected tcp, udp or sctp")
    m = re.match(r"^(\d+)(?:-(\d+))?$", body)
    if not m:
        raise ValueError(f"invalid exposed port {value!r}: expected PORT[-END][/PROTOCOL]")
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if not 1 <= lo <= hi <= 65535:
        raise ValueError(f"invalid exposed port {value!r}: ports are 1-65535, ranges ascend")
    if hi - lo >= 1024:
        raise ValueError(f"invalid exposed port {value!r}: a range covers at most 1024 ports")
    return [f"{p}/{protocol}" for p in range(lo, hi + 1)]
