"""Parsing YAML text into a `Document` (source.py): safe YAML that keeps where every value
stands.

Safety: only the YAML core tags are accepted (no Python objects, no !!binary/!!set), and before
any node is built a scan of the parser's events bounds the nesting depth (MAX_DEPTH) and the
number of nodes as written (MAX_WRITTEN: a 4 MB flow list is refused in well under a second, not
composed into 600 MB of nodes); alias expansion is bounded by counting every node built (an
alias bomb gets an error that says so, not a hang); recursive aliases are errors. Mapping keys
are taken as written (`on:` is the key "on", not True). Merge keys (`<<: *x`) work as in
Compose: keys written in the mapping win over merged ones. Each value's position is kept as a
node record (source.py's `NodeRecord`), not as PyYAML's node, so a document can be cached.

The only module of the package that imports PyYAML for reading; source.py imports it only when
the document is not in the cache (doccache.py).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import Location, Problem, SpecError
from reconciler.load.bounds import MAX_DEPTH, MAX_NODES, MAX_WRITTEN, fail
from reconciler.load.source import (
    Document,
    NodeRecord,
    PathT,
    kind_of,
    loc,
    render_path,
)

Loader: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE = f"{_TAG}merge"
_STR = f"{_TAG}str"


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


def _tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _located(display: str, node: yaml.Node) -> Location:
    return loc(display, node.start_mark.line, node.start_mark.column)


def _record(node: yaml.Node) -> NodeRecord:
    """What the document keeps of a node: where it is written, and a scalar's text and style."""
    mark = node.start_mark
    if isinstance(node, yaml.ScalarNode):
        return (mark.line, mark.column, node.value, node.style or None, node.tag)
    return (mark.line, mark.column, None, None, node.tag)


def parse_document(text: str, absolute: Path, display: str) -> Document:
    """Parse `text` (the file `display`, at `absolute`). Raises a located SpecError."""
    with _gc_paused():
        return _parse(text, absolute, display)


def _parse(text: str, absolute: Path, display: str) -> Document:
    check_shape(text, display)
    loader = Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, text, display) from None
        except yaml.YAMLError as exc:
            raise fail(display, f"YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        raise fail(display, "spec file is empty", hint="start with `version: 1` and `project:`")
    builder = _Builder(display)
    data = builder.build(node, (), None)
    if builder.problems:
        raise SpecError(builder.problems + builder.duplicates)
    if data is None:  # e.g. only comments after `---`
        raise fail(display, "spec file is empty", hint="start with `version: 1` and `project:`")
    if not isinstance(data, dict):
        raise SpecError(
            [
                Problem(
                    f"the spec must be a mapping (version, project, images, ...), "
                    f"not {kind_of(data)}",
                    _located(display, node),
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
    return fail(display, f"YAML syntax error: {message}", line, column, hint)


class _TooBig(Exception):
    pass


class _Builder:
    """Builds plain data from a composed node graph, recording marks and counting nodes."""

    def __init__(self, display: str):
        self.display = display
        self.nodes: dict[PathT, tuple[NodeRecord, NodeRecord | None]] = {}
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
                    _located(self.display, node),
                )
            ]
            return None

    def _problem(self, node: yaml.Node, path: PathT, message: str) -> None:
        self.problems.append(Problem(message, _located(self.display, node), render_path(path)))

    def _build(self, node: yaml.Node, path: PathT, key: Any) -> Any:
        """Build one value; `key` is the node of its mapping key (None in lists)."""
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        self.nodes[path] = (_record(node), _record(key) if key is not None else None)
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
        where = f" (first at line {first[0] + 1})" if first else ""
        self.duplicates.append(
            Problem(
                f"duplicate key {name!r}{where}",
                _located(self.display, key_node),
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
