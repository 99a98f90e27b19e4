"""Hints for located problems: "did you mean" (knowing Compose's field names), YAML 1.1 traps
and quoting hints for scalars YAML typed as something else than the text written.

Used by every load step that reports problems: load/loader.py (YAML traps), the schema
messages (load/schema_messages.py), the normalisers (load/normalize/*) and load/semantics.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from reconciler.errors import Problem
from reconciler.load.source import Document, PathT, kind_of

# Compose field names users carry over, and what they are called here.
COMPOSE_NAMES = {
    "environment": "env",
    "working_dir": "workdir",
    "container_name": "name",
    "stop_grace_period": "stop_timeout",
    "scale": "replicas",
    "deploy": "replicas",
    "expose": "ports",
    "image": "pull",
    "services": "containers",
    "dockerfile_inline": "dockerfile",
    "published": "host",
    "target": "container",
}

# Compose keys with no spec field of that name: what to write instead (by the key's parent:
# "" for the top level, "container" for a container's keys).
COMPOSE_HINTS = {
    ("", "services"): (
        "Compose's services are called containers in a spec v1 file; a file with top-level "
        "services and no containers or images is read as a Compose file"
    ),
    ("container", "volumes_from"): (
        "Compose's volumes_from has no spec field: mount the same named volume in both "
        'containers, volumes: ["data:/path"]'
    ),
    ("container", "links"): (
        "Compose's links are not needed: containers on a shared network reach each other by "
        "their key"
    ),
}


def compose_hint(path: PathT, key: str) -> str | None:
    """The hint for a Compose key at `path` (the parent of `key`), if it is one."""
    if not path:
        return COMPOSE_HINTS.get(("", key))
    if len(path) == 2 and path[0] == "containers":
        return COMPOSE_HINTS.get(("container", key))
    return None


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was probably meant to be (a close spelling or its Compose name)."""
    import difflib  # stdlib, lazy: only an invalid spec's message needs it (issue 14)

    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    alias = COMPOSE_NAMES.get(word)
    if alias in choices:
        return alias
    close = difflib.get_close_matches(word, list(COMPOSE_NAMES), n=1, cutoff=0.75)
    if close and COMPOSE_NAMES[close[0]] in choices:
        return COMPOSE_NAMES[close[0]]
    return None


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def typo_of(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` is a true typo of: one edit away (two for names over 5 letters)."""
    limit = 1 if len(word) <= 5 else 2
    best = min(((edit_distance(word, c), c) for c in choices), default=None)
    return best[1] if best is not None and 0 < best[0] <= limit else None


def not_a_key_warning(image: str) -> tuple[str, str]:
    """(message, hint) for a bare image name that is not an images key: it is pulled."""
    return (
        f"{image!r} is not an images key: it will be pulled from the default registry as "
        f"docker.io/library/{image}:latest",
        f"declare images.{image}, or write {image}:latest if you mean that image",
    )


def quote_hint(doc: Document, path: PathT, value: Any) -> str | None:
    """The hint for a scalar that YAML turned into something other than a string."""
    mark = doc.mark_at(path)
    if mark is None or mark.raw is None or mark.style or isinstance(value, (dict, list, str)):
        return None
    if "$" in mark.raw:
        return None
    raw = mark.raw
    if value is None and len(path) >= 2 and path[-2] == "env" and isinstance(path[-1], str):
        key = path[-1]
        return (
            f"to take {key} from the environment, write env as a list with - {key}; "
            f'for an empty value write {key}: ""'
        )
    if value is None:
        return 'write "" for an empty string' if raw in ("", "~") else f'quote it: "{raw}"'
    if isinstance(value, bool):
        if raw.lower() in ("true", "false"):
            return f'quote it: "{raw}"'
        return f'YAML 1.1 reads {raw} as {str(value).lower()}; quote it: "{raw}"'
    if isinstance(value, int) and ":" in raw:
        return f'YAML 1.1 reads {raw} as the number {value}; quote it: "{raw}"'
    if isinstance(value, int) and re.match(r"^[-+]?0[0-7_]+$", raw):
        return f'YAML 1.1 reads {raw} as the octal number {value}; quote it: "{raw}"'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'quote it: "{raw}"'
    return f'YAML reads {raw} as {kind_of(value)}; quote it: "{raw}"'


def yaml_trap(doc: Document, path: PathT, value: Any) -> Problem | None:
    """Numbers YAML 1.1 makes out of text that does not look like one: sexagesimal
    (`22:22` -> 1342) and octal (`0755` -> 493)."""
    mark = doc.mark_at(path)
    if mark is None or mark.style or mark.raw is None or isinstance(value, bool):
        return None
    if "$" in mark.raw:  # the value came from a variable, not from YAML's resolver
        return None
    raw = mark.raw
    if isinstance(value, (int, float)) and ":" in raw:
        return doc.problem(
            path, f"YAML 1.1 reads {raw} as the number {value:g}", f'quote it: "{raw}"'
        )
    if isinstance(value, int) and re.match(r"^[-+]?0[0-7_]+$", raw) and value != 0:
        return doc.problem(
            path,
            f"YAML 1.1 reads {raw} as the octal number {value}",
            f'quote it: "{raw}", or write {value} if you mean that number',
        )
    return None


def type_problem(doc: Document, path: PathT, expected: str, value: Any) -> Problem:
    """`must be <expected>, not <kind>`, with a quoting hint when YAML typed the text (or,
    for one string where a list is expected, the list to write)."""
    hint = quote_hint(doc, path, value)
    if expected == "a list" and isinstance(value, str) and path and isinstance(path[-1], str):
        hint = f"write {path[-1]}: {json.dumps([value])}"
    return doc.problem(path, f"must be {expected}, not {kind_of(value)}", hint)


def yaml_traps(doc: Document, data: Any) -> Iterable[tuple[PathT, Problem]]:
    """(path, problem) of every number in `data` that YAML 1.1 made out of text."""

    def walk(value: Any, path: PathT) -> Iterator[tuple[PathT, Problem]]:
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, (*path, i))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = yaml_trap(doc, path, value)
            if problem is not None:
                yield path, problem

    yield from walk(data, ())
