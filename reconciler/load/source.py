"""Reading a spec file: safe YAML that keeps where every value stands.

`load_document()` returns a `Document`: plain Python data (dicts, lists, str, int, float,
bool, None) plus a map from each value's path to its `Mark` (the key's and the value's
location, and the scalar's original text so that validators can explain YAML 1.1 surprises
such as `22:22` arriving as 1342).

Safety: only the YAML core tags are accepted (no Python objects, no !!binary/!!set), the file
size is checked before anything is read, duplicate keys are errors, and before any node is
built a scan of the parser's events bounds the nesting depth (MAX_DEPTH) and the number of
nodes as written (MAX_WRITTEN: a 4 MB flow list is refused in well under a second, not
composed into 600 MB of nodes); alias expansion is bounded by counting every node built (an
alias bomb gets an error that says so, not a hang); recursive aliases are errors.
Mapping keys are taken as written (`on:` is the key "on", not True). Merge keys (`<<: *x`)
work as in Compose: keys written in the mapping win over merged ones.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import Location, Problem, SpecError
from reconciler.load.bounds import MAX_DEPTH, Loader, check_shape, fail, read_text

MAX_NODES = 100_000  # values built, counting each alias expansion again

PathT = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE = f"{_TAG}merge"
_STR = f"{_TAG}str"
_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

_Loader = Loader
_fail = fail


@dataclass(frozen=True)
class Mark:
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


@dataclass
class Document:
    path: Path  # absolute
    display: str  # the path as the user gave it, used in locations
    data: Any
    # path -> (value node, key node or None); Marks are made from them on demand
    nodes: dict[PathT, tuple[Any, Any]] = field(default_factory=dict)
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
        node, key_node = entry
        key = _loc(self.display, key_node.start_mark) if key_node is not None else None
        value = _loc(self.display, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return Mark(value, key, node.value, node.style or None, node.tag)
        return Mark(value, key, None, None, node.tag)

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


def _tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _loc(display: str, mark: Any) -> Location:
    return Location(display, mark.line + 1, mark.column + 1)


def load_document(path: str | Path) -> Document:
    display = str(path)
    absolute = Path(path).expanduser().absolute()
    text = read_text(absolute, display)
    with _gc_paused():
        return parse_document(text, absolute, display)


@contextmanager
def _gc_paused():
    """Building a big document allocates many small objects, none of them cyclic garbage;
    the cyclic collector would run many times over the growing heap for nothing (about 20%
    of the load time of a 200-container spec)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_document(text: str, absolute: Path, display: str) -> Document:
    check_shape(text, display)
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, text, display) from None
        except yaml.YAMLError as exc:
            raise _fail(display, f"YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        raise _fail(display, "spec file is empty", hint="start with `version: 1` and `project:`")
    builder = _Builder(display)
    data = builder.build(node, (), None)
    if builder.problems:
        raise SpecError(builder.problems + builder.duplicates)
    if data is None:  # e.g. only comments after `---`
        raise _fail(display, "spec file is empty", hint="start with `version: 1` and `project:`")
    if not isinstance(data, dict):
        raise SpecError(
            [
                Problem(
                    f"the spec must be a mapping (version, project, images, ...), "
                    f"not {kind_of(data)}",
                    _loc(display, node.start_mark),
                )
            ]
        )
    return Document(absolute, display, data, builder.nodes, builder.duplicates)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, display: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    message = exc.problem or exc.context or "invalid YAML"
    context = exc.context_mark
    same = context is None or (
        mark is not None and (context.line, context.column) == (mark.line, mark.column)
    )
    if exc.context and exc.problem and not same:
        message += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    hint = None
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        hint = "indent YAML with spaces, not tabs"
    elif mark is not None and "${" in "".join(
        text.splitlines()[max(mark.line - 1, 0) : mark.line + 1]
    ):
        hint = 'inside { } or [ ], quote values that use variables: "${VAR}"'
    return _fail(display, f"YAML syntax error: {message}", line, column, hint)


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


class _TooBig(Exception):
    pass


class _Builder:
    """Builds plain data from a composed node graph, recording marks and counting nodes."""

    def __init__(self, display: str):
        self.display = display
        self.nodes: dict[PathT, tuple[Any, Any]] = {}
        self.problems: list[Problem] = []
        self.duplicates: list[Problem] = []  # the first of each key is kept: not fatal
        self.count = 0
        self.active: set[int] = set()  # nodes being built (recursive alias detection)
        self.constructor = yaml.SafeLoader("")  # scalar constructors only

    def build(self, node: yaml.Node, path: PathT, key: Any) -> Any:
        try:
            return self._build(node, path, key)
        except _TooBig:
            self.duplicates = []
            self.problems = [
                Problem(
                    f"aliases expand the document to more than {MAX_NODES} values "
                    "(an alias bomb); refusing to expand it",
                    _loc(self.display, node.start_mark),
                )
            ]
            return None

    def _problem(self, node: yaml.Node, path: PathT, message: str) -> None:
        self.problems.append(
            Problem(message, _loc(self.display, node.start_mark), render_path(path))
        )

    def _build(self, node: yaml.Node, path: PathT, key: Any) -> Any:
        """Build one value; `key` is the node of its mapping key (None in lists)."""
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        self.nodes[path] = (node, key)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if len(path) >= MAX_DEPTH:  # written shallow, nested deeper through aliases
            self._problem(node, path, f"nesting deeper than {MAX_DEPTH} levels (through aliases)")
            return None
        if id(node) in self.active:
            self._problem(node, path, "recursive YAML alias")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != f"{_TAG}seq":
                    self._problem(node, path, f"unsupported YAML tag {_tag(node.tag)}")
                    return None
                return [self._build(item, (*path, i), None) for i, item in enumerate(node.value)]
            if node.tag != f"{_TAG}map":
                self._problem(node, path, f"unsupported YAML tag {_tag(node.tag)}")
                return None
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, path: PathT) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._problem(node, path, f"unsupported YAML tag {_tag(node.tag)}")
            return None
        if node.tag == _STR:
            return node.value
        try:
            return self.constructor.yaml_constructors[node.tag](self.constructor, node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            self._problem(node, path, f"invalid value {node.value!r}: {exc}")
            return None

    def _pairs(self, node: yaml.MappingNode, path: PathT) -> Iterator[tuple[yaml.Node, yaml.Node]]:
        """Explicit pairs, then merged ones (the caller keeps the first of each key)."""
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        self._problem(
                            value_node,
                            path,
                            "a merge key (<<) needs a mapping or a list of mappings",
                        )
                        continue
                    if id(source) in self.active:
                        self._problem(source, path, "recursive YAML alias")
                        continue
                    self.active.add(id(source))
                    try:
                        merged.extend(self._pairs(source, path))
                    finally:
                        self.active.discard(id(source))
            else:
                yield key_node, value_node
        yield from merged

    def _mapping(self, node: yaml.MappingNode, path: PathT) -> dict[str, Any]:
        if any(k.tag == _MERGE for k, _ in node.value):
            return self._merged_mapping(node, path)
        result: dict[str, Any] = {}
        self.count += len(node.value)
        if self.count > MAX_NODES:
            raise _TooBig
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(
                    key_node, path, "a mapping key must be a plain value, not a list or mapping"
                )
                continue
            name = key_node.value
            if name in result:
                self._duplicate(key_node, path, name)
                continue
            result[name] = self._build(value_node, (*path, name), key_node)
        return result

    def _duplicate(self, key_node: yaml.Node, path: PathT, name: str) -> None:
        first = self.nodes[(*path, name)][1]
        where = f" (first at line {first.start_mark.line + 1})" if first else ""
        self.duplicates.append(
            Problem(
                f"duplicate key {name!r}{where}",
                _loc(self.display, key_node.start_mark),
                render_path((*path, name)),
            )
        )

    def _merged_mapping(self, node: yaml.MappingNode, path: PathT) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        merged_keys: set[str] = set()
        n_explicit = sum(1 for k, _ in node.value if k.tag != _MERGE)
        for index, (key_node, value_node) in enumerate(self._pairs(node, path)):
            self.count += 1
            if self.count > MAX_NODES:
                raise _TooBig
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(
                    key_node, path, "a mapping key must be a plain value, not a list or mapping"
                )
                continue
            name = key_node.value
            is_explicit = index < n_explicit
            if is_explicit:
                if name in explicit:
                    self._duplicate(key_node, path, name)
                    continue
                explicit.add(name)
            elif name in explicit or name in merged_keys:
                continue  # explicit keys (and earlier merges) win
            else:
                merged_keys.add(name)
            result[name] = self._build(value_node, (*path, name), key_node)
        return result
