"""Reading a spec file: plain data that keeps where every value stands.

`load_document()` returns a `Document`: plain Python data (dicts, lists, str, int, float,
bool, None) plus a map from each value's path to a node record (line, column, and for scalars
the original text, style and tag), from which `Mark`s are made on demand: the key's and the
value's location, and the scalar's original text, so that validators can explain YAML 1.1
surprises such as `22:22` arriving as 1342.

The file size is checked before anything is read (bounds.py). Parsing, with its own bounds and
safety rules, is yamlparse.py's; a document read before with the same bytes comes from the
cache (doccache.py) instead, without importing PyYAML at all. Duplicate keys are errors.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from reconciler.errors import Location, Problem
from reconciler.load import doccache
from reconciler.load.bounds import read_text

PathT = tuple[str | int, ...]
# Where a value is written: 0-based line and column, then for a scalar its text as written and
# its style (None = plain, or one of ' " | >), for a list or mapping None and None; its tag.
NodeRecord = tuple[int, int, str | None, str | None, str]

_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class Mark(Struct, frozen=True):
    """Where one value stands: its mapping key (if any), the value itself and, for scalars,
    the original text and style (None = plain, or one of ' \" | >)."""

    value: Location
    key: Location | None = None
    raw: str | None = None
    style: str | None = None
    tag: str | None = None

    @property
    def plain(self) -> bool:
        return self.raw is not None and not self.style


class Document(Struct):
    """A parsed input file: its data and where each value is written (made by yamlparse.py or
    from the cache; read by every load step that reports a located problem)."""

    path: Path  # absolute
    display: str  # the path as the user gave it, used in locations
    data: Any
    # path -> (value record, key record or None); Marks are made from them on demand
    nodes: dict[PathT, tuple[NodeRecord, NodeRecord | None]] = field(default_factory=dict)
    # problems that did not stop reading (duplicate keys: the first is kept), reported by
    # load/loader.py's check_document with all the others
    problems: list[Problem] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def display_path(self, name: str) -> str:
        """How to show a file the spec names (relative to the spec's folder): relative to
        where the spec was shown from, so that locations stay short and clickable."""
        expanded = os.path.expanduser(name)
        if os.path.isabs(expanded):
            return os.path.normpath(expanded)
        return os.path.normpath(os.path.join(os.path.dirname(self.display), expanded))

    def mark_at(self, path: PathT) -> Mark | None:
        """The mark of exactly `path` (None if the document has no such value)."""
        entry = self.nodes.get(tuple(path))
        if entry is None:
            return None
        (line, column, raw, style, tag), key_record = entry
        key = loc(self.display, key_record[0], key_record[1]) if key_record else None
        return Mark(loc(self.display, line, column), key, raw, style, tag)

    def mark(self, path: PathT) -> Mark | None:
        """The mark of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.nodes:
                return self.mark_at(path)
            path = path[:-1]
        return self.mark_at(())

    def location(self, path: PathT) -> Location:
        mark = self.mark(path)
        return mark.value if mark else Location(self.display, 1, 1)

    def key_location(self, path: PathT) -> Location:
        """Where the key of `path` is written (for mapping entries), else the value."""
        mark = self.mark(path)
        if mark is None:
            return Location(self.display, 1, 1)
        return mark.key or mark.value

    def problem(self, path: PathT, message: str, hint: str | None = None, at_key=False):
        loc = self.key_location(path) if at_key else self.location(path)
        return Problem(message, loc, render_path(path), hint)


def render_path(path: PathT) -> str:
    """`containers.web.ports[0]`; keys that are not simple names are quoted:
    `labels["io.x"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


def loc(display: str, line0: int, column0: int) -> Location:
    """A Location from 0-based line and column (as the parser counts)."""
    return Location(display, line0 + 1, column0 + 1)


def load_document(path: str | Path) -> Document:
    """Read and parse the spec file at `path` (shown as given). Raises SpecError."""
    display = str(path)
    absolute = Path(path).expanduser().absolute()
    return document(read_text(absolute, display), absolute, display)


def document(text: str, absolute: Path, display: str) -> Document:
    """The Document of `text`: from the cache when the same bytes were parsed before (by this
    version of the parser), else parsed and, if it has no problems, cached."""
    cached = doccache.get(text)
    if cached is not None:
        data, nodes = cached
        return Document(absolute, display, data, nodes)
    from reconciler.load.yamlparse import parse_document  # lazy seam: PyYAML on a miss only

    doc = parse_document(text, absolute, display)
    if not doc.problems:
        doccache.put(text, doc.data, doc.nodes)
    return doc


def kind_of(value: Any) -> str:
    """A user-facing name for a value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"  # e.g. a date (YAML timestamp)
