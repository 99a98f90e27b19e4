"""Bounds on reading an input file, checked before anything costly: the size (before a byte is
read) here; the nesting depth and the number of nodes as written (a scan of the YAML parser's
events, before any node is built) in yamlparse.py, with these limits. Used by source.py
(specs) and envfile.py (env files); the watch loop's input hashing reads with the same size
bound.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.errors import Location, Problem, SpecError

MAX_BYTES = 4 * 1024 * 1024  # a spec bigger than this is certainly a mistake
MAX_NODES = 100_000  # values built, counting each alias expansion again
MAX_WRITTEN = 100_000  # nodes as written (keys, values, aliases): checked before building
MAX_DEPTH = 64  # nested mappings and lists, as written and through aliases


def fail(display: str, message: str, line: int = 1, column: int = 1, hint=None) -> SpecError:
    return SpecError([Problem(message, Location(display, line, column), "", hint)])


def read_text(path: Path, display: str, what: str = "spec") -> str:
    """Read a UTF-8 text file with a size bound; every failure is a located SpecError."""
    try:
        if path.is_dir():
            raise fail(display, f"{what} file is a directory, not a file")
        with path.open("rb") as f:
            if os.fstat(f.fileno()).st_size > MAX_BYTES:  # refused before reading a byte
                raise fail(display, f"{what} file is larger than {size_text()}")
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise fail(display, f"{what} file not found") from None
    except PermissionError:
        raise fail(display, f"{what} file is not readable (permission denied)") from None
    except OSError as exc:
        raise fail(display, f"cannot read {what} file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:  # grew after the stat, or not a regular file
        raise fail(display, f"{what} file is larger than {size_text()}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise fail(
            display, f"{what} file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column
        ) from None


def size_text() -> str:
    return f"{MAX_BYTES // 2**20} MiB" if MAX_BYTES % 2**20 == 0 else f"{MAX_BYTES} bytes"
