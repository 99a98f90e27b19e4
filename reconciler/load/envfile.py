"""KEY=VALUE files: `env_file:` entries and the `.env` beside a spec (Compose's format).

Blank lines and `#` comments are skipped; an `export ` prefix is allowed; values may be
single-quoted (literal), double-quoted (with \\n, \\t, \\", \\\\ escapes; may span lines) or bare
(trimmed; ` #` starts a comment). A line without `=` is an error at its line and column.
Called by load/loader.py (the `.env`) and load/normalize/containers.py (`env_file:`).
"""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.errors import Location, Problem, SpecError
from reconciler.load.bounds import read_text

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def read_env_file(path: Path, display: str) -> tuple[dict[str, str], list[Problem]]:
    """Parse a file; a missing or unreadable file is one located problem."""
    try:
        text = read_text(path, display, what="env")
    except SpecError as exc:
        return {}, list(exc.problems)
    return parse_env(text, display)


def parse_env(text: str, display: str) -> tuple[dict[str, str], list[Problem]]:
    values: dict[str, str] = {}
    problems: list[Problem] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        i += 1
        stripped = raw.lstrip()
        indent = len(raw) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        body = stripped
        offset = indent
        if body.startswith("export ") or body.startswith("export\t"):
            rest = body[len("export") :].lstrip()
            offset += len(body) - len(rest)
            body = rest
        m = _KEY.match(body)
        if not m:
            problems.append(
                Problem(
                    f"expected KEY=VALUE, not {body!r} (a key starts with a letter or _)",
                    Location(display, lineno, offset + 1),
                )
            )
            continue
        key = m.group(0)
        after = body[m.end() :].lstrip(" \t")
        if not after.startswith("="):
            problems.append(
                Problem(
                    f"expected KEY=VALUE, not {body!r}",
                    Location(display, lineno, offset + 1),
                )
            )
            continue
        value = after[1:].lstrip(" \t")
        if value.startswith("'"):
            end = value.find("'", 1)
            if end < 0:
                problems.append(
                    Problem("unterminated single quote", Location(display, lineno, offset + 1))
                )
                continue
            values[key] = value[1:end]
        elif value.startswith('"'):
            chunks = [value[1:]]
            out, closed = _double_quoted("\n".join(chunks))
            while not closed and i < len(lines):
                chunks.append(lines[i])
                i += 1
                out, closed = _double_quoted("\n".join(chunks))
            if not closed:
                problems.append(
                    Problem("unterminated double quote", Location(display, lineno, offset + 1))
                )
                continue
            values[key] = out
        else:
            hash_at = re.search(r"\s#", value)
            if hash_at:
                value = value[: hash_at.start()]
            values[key] = value.strip()
    return values, problems


def _double_quoted(text: str) -> tuple[str, bool]:
    out = []
    j = 0
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            nxt = text[j + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            j += 2
            continue
        if c == '"':
            return "".join(out), True
        out.append(c)
        j += 1
    return "".join(out), False
