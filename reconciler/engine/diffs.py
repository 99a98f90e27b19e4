"""`docker diff` without what the engine itself puts into a container: the init binary
(`init: true` mounts /sbin/docker-init, which also marks /sbin changed), /etc/hosts,
/etc/hostname, /etc/resolv.conf, /run/secrets and every mount point. What is left was made
inside the container and is lost when it is replaced.

Used by engine/containers.py's `changed_paths` (reconcile.py's replacement warning).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

ENGINE_PATHS = frozenset(
    {"/sbin/docker-init", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/secrets"}
)


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def user_changes(changes: Sequence[tuple[str, str]], mount_points: Iterable[str]) -> list[str]:
    """The changed paths (kind, path) a user made, in the engine's order: the engine's own
    paths and the mount points (and what is below them) are dropped, and so is a folder that
    only changed because of them (`C /sbin` beside `A /sbin/docker-init`)."""
    engine = set(ENGINE_PATHS) | {m for m in mount_points if m}
    dropped = [path for _, path in changes if _under(path, engine)]
    kept = [path for _, path in changes if not _under(path, engine)]
    result = []
    for path in kept:
        below = path.rstrip("/") + "/"
        holds_engine = any(d.startswith(below) for d in dropped)
        holds_user = any(k.startswith(below) for k in kept)
        if holds_engine and not holds_user:
            continue  # a folder changed only by what the engine put inside it
        result.append(path)
    return result
