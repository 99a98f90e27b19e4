"""A Compose service's build options that spec v1 has under `images.*.build` (cache_from,
secrets, ssh, network, extra_hosts, shm_size): called by load/compose/translate.py for each
built service. The values keep their written form where spec v1 reads the same (its normaliser
checks them); list and mapping forms become spec v1's lists, and a build secret names a
top-level secret, whose file becomes the secret's source (BuildKit: `RUN --mount=type=secret`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.load.source import PathT

ErrFn = Callable[[PathT, str], None]


def build_options(
    build: Mapping[str, Any],
    path: PathT,
    data: Mapping[str, Any],
    err: ErrFn,
    host_path: Callable[[str], str],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("cache_from", "network", "shm_size"):
        if build.get(key) is not None:
            out[key] = build[key]
    ssh = build.get("ssh")
    if isinstance(ssh, Mapping):
        out["ssh"] = [f"{k}={v}" if v else str(k) for k, v in ssh.items()]
    elif ssh is not None:
        out["ssh"] = ssh
    hosts = build.get("extra_hosts")
    if isinstance(hosts, Mapping):
        out["extra_hosts"] = [f"{k}:{_one(v)}" for k, v in hosts.items()]
    elif hosts is not None:
        out["extra_hosts"] = hosts
    if build.get("secrets"):
        out["secrets"] = _secrets(build["secrets"], (*path, "secrets"), data, err, host_path)
    return out


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _secrets(
    value: Any, path: PathT, data: Mapping[str, Any], err: ErrFn, host_path: Callable[[str], str]
) -> dict[str, str]:
    """Build secret id -> file, from the short (`- NAME`) or long (`source`, `target`) form."""
    found = data.get("secrets")
    top: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    out: dict[str, str] = {}
    for i, item in enumerate(value if isinstance(value, list) else []):
        source, target = (item, None) if isinstance(item, str) else (None, None)
        if isinstance(item, Mapping):
            source, target = item.get("source"), item.get("target")
        entry = top.get(source) if isinstance(source, str) else None
        if not isinstance(entry, Mapping):
            err((*path, i), f"build.secrets: {source!r} is not a top-level secret")
            continue
        if not isinstance(entry.get("file"), str):
            err(
                (*path, i),
                f"build.secrets: secret {source} has no `file`; a build secret is read from "
                "a file (environment and external secrets are not supported for builds)",
            )
            continue
        out[str(target or source)] = host_path(entry["file"])
    if not isinstance(value, list):
        err(path, "build.secrets: expected a list of secret names or {source, target}")
    return out
