"""Parsed spec documents kept between runs, so that a command whose spec has not changed does
not import PyYAML or parse it again: $XDG_CACHE_HOME/reconciler/documents/<key>.json.

The key is the sha256 of the file's text together with the parser's own fingerprint (this
module's format, reconciler's version, and the size and mtime of the parser's source files and
of PyYAML's): the same bytes parsed by the same code give the same document, so an entry can
only ever be the very document a parse would give. Only the parse is cached: interpolation,
.env and env files, validation and normalisation run on every load, on a fresh copy.
Documents with problems (duplicate keys) and values JSON cannot hold (YAML timestamps) are not
cached. Reading or writing the cache never fails a command (a broken entry is a miss);
RECONCILER_NO_CACHE=1 turns it off; at most MAX_ENTRIES are kept (the oldest go first).
Called by source.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from typing import Any

from reconciler import __version__
from reconciler.cachedir import cache_dir

FORMAT = 1
MAX_ENTRIES = 64
_PARSER_FILES = ("source.py", "yamlparse.py", "bounds.py", "doccache.py")

Nodes = dict[tuple[str | int, ...], tuple[Any, Any]]

_fingerprint: str | None = None


def fingerprint() -> str:
    """What the parse depends on besides the text (computed once per process)."""
    global _fingerprint
    if _fingerprint is None:
        here = os.path.dirname(os.path.abspath(__file__))
        files = [os.path.join(here, name) for name in _PARSER_FILES]
        files += [os.path.join(e or ".", "yaml", "__init__.py") for e in sys.path[:64]]
        parts = [f"{FORMAT}", __version__, sys.version]
        for path in files:
            with contextlib.suppress(OSError):
                st = os.stat(path)
                parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
                if path.endswith(os.path.join("yaml", "__init__.py")):
                    break  # the PyYAML an import would find
        _fingerprint = "\n".join(parts)
    return _fingerprint


def _entry(text: str) -> str | None:
    folder = cache_dir()
    if folder is None:
        return None
    key = hashlib.sha256(fingerprint().encode() + b"\0" + text.encode("utf-8", "surrogatepass"))
    return os.path.join(folder, "documents", f"{key.hexdigest()}.json")


def get(text: str) -> tuple[Any, Nodes] | None:
    """(data, nodes) of the document parsed from `text` before, or None."""
    path = _entry(text)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            stored = json.loads(f.read())
        if stored["format"] != FORMAT:
            return None
        nodes: Nodes = {
            tuple(at): (tuple(value), tuple(key) if key is not None else None)
            for at, value, key in stored["nodes"]
        }
        return stored["data"], nodes
    except (OSError, ValueError, KeyError, TypeError):
        return None


def put(text: str, data: Any, nodes: Nodes) -> None:
    """Keep the document parsed from `text` (atomically: a temporary file renamed over)."""
    path = _entry(text)
    if path is None:
        return
    try:
        body = json.dumps(
            {"format": FORMAT, "data": data, "nodes": [[k, v, kr] for k, (v, kr) in nodes.items()]},
            separators=(",", ":"),
        )
    except (TypeError, ValueError):  # a value JSON cannot hold (a YAML timestamp)
        return
    folder = os.path.dirname(path)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(temporary, path)
        _prune(folder)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _prune(folder: str) -> None:
    """Keep the MAX_ENTRIES most recently written documents."""
    entries = []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name.endswith(".json"):
                with contextlib.suppress(OSError):
                    entries.append((entry.stat().st_mtime_ns, entry.path))
    for _, old in sorted(entries)[: max(0, len(entries) - MAX_ENTRIES)]:
        with contextlib.suppress(OSError):
            os.unlink(old)
