"""Variable interpolation in spec values, as in Docker Compose.

`${VAR}` and `$VAR` take a variable; `${VAR:-default}` uses the default when VAR is unset or
empty, `${VAR-default}` only when unset; `${VAR:?message}` (unset or empty) and
`${VAR?message}` (unset) make a missing variable an error with that message;
`${VAR:+other}`/`${VAR+other}` give `other` when VAR is set (and not empty). Defaults may
themselves contain variables. `$$` is a literal `$`. Variables come from the environment and
from a `.env` file beside the spec; the environment wins. A variable that is not set and has
no default is an error at the value that uses it.

Only string values are interpolated, never mapping keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.errors import Problem
from reconciler.load.source import Document, PathT

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UnsetVariable(InterpolationError):
    """`${VAR}` or `$VAR` with VAR unset (Compose: a warning and an empty value)."""

    def __init__(self, name: str, message: str, hint: str | None = None):
        super().__init__(message, hint)
        self.name = name


def substitute(text: str, lookup: Callable[[str], str | None]) -> str:
    """Interpolate one string. Raises InterpolationError."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c != "$":
            j = text.find("$", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(text, i + 2)
            if end < 0:
                raise InterpolationError(
                    f"unterminated ${{ in {text!r}", "close it with } or write $$ for a literal $"
                )
            out.append(_braced(text[i + 2 : end], lookup))
            i = end + 1
        else:
            m = _NAME.match(text, i + 1)
            if not m:
                out.append("$")  # a lone $ (e.g. "$1", "cost: 5$") stays as written
                i += 1
                continue
            out.append(_value(m.group(0), None, None, lookup))
            i = m.end()
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _braced(inner: str, lookup: Callable[[str], str | None]) -> str:
    m = _NAME.match(inner)
    if not m:
        raise InterpolationError(
            f"invalid interpolation ${{{inner}}}: expected a variable name",
            "write $$ for a literal $",
        )
    name = m.group(0)
    rest = inner[m.end() :]
    if not rest:
        return _value(name, None, None, lookup)
    for op in _OPS:
        if rest.startswith(op):
            return _value(name, op, rest[len(op) :], lookup)
    raise InterpolationError(
        f"invalid interpolation ${{{inner}}}: unknown operator after {name}",
        "use ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message} or ${VAR:+value}",
    )


def _value(name: str, op: str | None, word: str | None, lookup) -> str:
    value = lookup(name)
    if op is None:
        if value is None:
            raise UnsetVariable(
                name,
                f"variable {name} is not set",
                f"set it, give a default with ${{{name}:-default}}, or write $$ for a literal $",
            )
        return value
    assert word is not None
    empty = value is None or (op.startswith(":") and value == "")
    if op in (":-", "-"):
        return substitute(word, lookup) if empty else value  # type: ignore[return-value]
    if op in (":?", "?"):
        if empty:
            message = substitute(word, lookup).strip()
            state = "not set" if value is None else "empty"
            raise InterpolationError(
                f"variable {name} is {state}" + (f": {message}" if message else "")
            )
        return value  # type: ignore[return-value]
    # :+ and +
    return "" if empty else substitute(word, lookup)


def interpolate_document(
    doc: Document, variables: Mapping[str, str]
) -> tuple[Any, list[Problem], set[PathT], set[PathT]]:
    """A copy of doc.data with every string value interpolated; the problems found; the
    paths of values that contained variables; the paths of values that failed."""
    problems: list[Problem] = []
    changed: set[PathT] = set()
    failed: set[PathT] = set()

    def lookup(name: str) -> str | None:
        return variables.get(name)

    def walk(value: Any, path: PathT) -> Any:
        if isinstance(value, str):
            if "$" not in value:
                return value
            try:
                result = substitute(value, lookup)
            except InterpolationError as exc:
                problems.append(doc.problem(path, exc.message, exc.hint))
                failed.add(path)
                return value
            if result != value:
                changed.add(path)
            return result
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    return walk(doc.data, ()), problems, changed, failed
