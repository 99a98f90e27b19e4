"""The user's cache folder for reconciler: $XDG_CACHE_HOME/reconciler, else
~/.cache/reconciler; RECONCILER_NO_CACHE=1 turns every cache off.

What is kept there is only ever a faster way to the same answer: build-context file digests
(buildctx/digestcache.py) and parsed spec documents (load/doccache.py). Either may be deleted
at any time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def cache_dir(environ: Mapping[str, str] | None = None) -> str | None:
    """$XDG_CACHE_HOME/reconciler or ~/.cache/reconciler; None when caching is off."""
    env = os.environ if environ is None else environ
    if env.get("RECONCILER_NO_CACHE"):
        return None
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "reconciler")
