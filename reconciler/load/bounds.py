"""Bounds on reading an input file, checked before anything costly: the size (before a byte is
read), the nesting depth and the number of nodes as written (a scan of the YAML parser's
events, before any node is built). Used by source.py (specs) and envfile.py (env files); the
watch loop's input hashing reads with the same size bound.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import Location, Problem, SpecError

MAX_BYTES = 4 * 1024 * 1024  # a spec bigger than this is certainly a mistake
MAX_NODES = 100_000  # values built, counting each alias expansion again
MAX_WRITTEN = 100_000  # nodes as written (keys, values, aliases): checked before building
MAX_DEPTH = 64  # nested mappings and lists, as written and through aliases

Loader: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


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


def check_shape(text: str, display: str) -> None:
    """Scan the parser's events (no nodes built, no recursion) and refuse a document nested
    deeper than MAX_DEPTH or with more than MAX_WRITTEN nodes, located where it goes over.
    Syntax errors are left to parse_document, which reports them."""
    loader = Loader(text)
    depth = count = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                count += 1
                if depth > MAX_DEPTH:
                    raise fail(display, f"nesting deeper than {MAX_DEPTH} levels", *_at(event))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                count += 1
            if count > MAX_WRITTEN:
                raise fail(
                    display,
                    f"the document has more than {MAX_WRITTEN} nodes (keys, values and "
                    "aliases as written); a spec this large is refused",
                    *_at(event),
                )
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def _at(event: yaml.Event) -> tuple[int, int]:
    """1-based (line, column) of an event."""
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
