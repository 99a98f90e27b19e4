"""The build-context file digests kept between runs, in the user's cache folder: one file per
context, $XDG_CACHE_HOME/reconciler/contexts/<sha256 of the context path>.json (else under
~/.cache), holding the files that context sent on its last run (deleted files drop out).

buildctx/context.py hashes every file a build sends, to know whether an image must be
rebuilt; within a process it already skips a file whose stat is unchanged. This module keeps
those (path -> stat key, sha256) pairs on disk so that the next `plan`/`apply`/`status` does
not read the whole context again. A digest is reused only when the path and the whole stat key
(size, mtime_ns, inode, ctime_ns) are equal: any write to a file changes its ctime, which
cannot be set back from user space, so a stale digest is never used (files changed in the
last RACY_NS are not stored: a write in the same timestamp tick keeps the ctime). Reading or
writing the cache never fails a command (a broken or unwritable cache is ignored);
RECONCILER_NO_CACHE=1 turns it off. Called by buildctx/context.py `build_sources`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Mapping

from reconciler.cachedir import cache_dir

StatKey = tuple[int, int, int, int]
Digests = dict[str, tuple[StatKey, str]]

_VERSION = 1
# A file changed this recently is not stored: a second write within the same timestamp tick
# as the stat that keyed its digest would leave the key unchanged ("racy git").
RACY_NS = 2_000_000_000


def cache_file(context: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The cache file of the context folder `context` (an absolute path); None when off."""
    folder = cache_dir(environ)
    if folder is None:
        return None
    name = hashlib.sha256(context.encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(folder, "contexts", f"{name}.json")


def load(context: str, environ: Mapping[str, str] | None = None) -> Digests:
    """The stored digests of the files under `context` ({} when there is no usable cache)."""
    path = cache_file(context, environ)
    if path is None:
        return {}
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
        if data.get("version") != _VERSION or data.get("context") != context:
            return {}
        return {
            file: ((int(a), int(b), int(c), int(d)), str(digest))
            for file, (a, b, c, d, digest) in data["digests"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def save(context: str, digests: Digests, environ: Mapping[str, str] | None = None) -> None:
    """Store the digests of `context`'s files (atomically: a temporary file renamed over)."""
    path = cache_file(context, environ)
    if path is None or not os.path.isabs(context):
        return
    settled = time.time_ns() - RACY_NS
    body = {
        "version": _VERSION,
        "context": context,
        "digests": {
            file: [*key, digest]
            for file, (key, digest) in digests.items()
            if max(key[1], key[3]) < settled  # mtime_ns, ctime_ns
        },
    }
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, separators=(",", ":"))
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
