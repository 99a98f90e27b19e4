"""Typed readers of document values shared by the section normalisers (load/normalize/*).

A value of the wrong type becomes a located Problem appended to a list the sections share,
and the reader returns a default, so normalising goes on and every problem is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import Location, Problem
from reconciler.load.hints import type_problem
from reconciler.load.normalize.scalars import parse_duration, shell_words
from reconciler.load.source import Document, PathT


class Fields:
    """Readers of one document's values; problems go to `problems` (shared by sections)."""

    def __init__(self, doc: Document, environ: Mapping[str, str], problems: list[Problem]):
        self.doc = doc
        self.environ = environ  # for `KEY` alone in a list of KEY=VALUE
        self.folder = doc.folder
        self.problems = problems

    def err(self, path: PathT, message: str, hint: str | None = None, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, hint, at_key))

    def loc(self, path: PathT) -> Location:
        return self.doc.key_location(path)

    def string(self, value: Any, path: PathT) -> str | None:
        if isinstance(value, str):
            return value
        self.problems.append(type_problem(self.doc, path, "a string", value))
        return None

    def opt_string(self, d: Mapping, key: str, path: PathT) -> str | None:
        if key not in d or d[key] is None:
            return None
        return self.string(d[key], (*path, key))

    def mapping(self, value: Any, path: PathT) -> Mapping[str, Any]:
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self.problems.append(type_problem(self.doc, path, "a mapping", value))
        return {}

    def str_map(self, value: Any, path: PathT, allow_list: bool = True) -> dict[str, str]:
        """A mapping of strings, or (Compose style) a list of "KEY=VALUE"."""
        out: dict[str, str] = {}
        if value is None:
            return out
        if isinstance(value, list) and allow_list:
            for i, item in enumerate(value):
                s = self.string(item, (*path, i))
                if s is None:
                    continue
                k, eq, v = s.partition("=")
                if not k:
                    self.err((*path, i), f"expected KEY=VALUE, not {s!r}")
                    continue
                if not eq:
                    env_value = self.environ.get(k)  # "KEY" alone: taken from the environment
                    if env_value is not None:
                        out[k] = env_value
                    continue
                out[k] = v
            return out
        if not isinstance(value, dict):
            expected = "a mapping or a list of KEY=VALUE" if allow_list else "a mapping"
            self.problems.append(type_problem(self.doc, path, expected, value))
            return out
        for k, v in value.items():
            if v is None:
                self.err(
                    (*path, k), "must be a string, not null", f'write {k}: "" for an empty value'
                )
                continue
            s = self.string(v, (*path, k))
            if s is not None:
                out[k] = s
        return out

    def words(self, value: Any, path: PathT) -> tuple[str, ...] | None:
        """A command: a string (split like a shell) or a list of strings."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return shell_words(value)
            except ValueError as exc:
                self.err(path, str(exc))
                return None
        if isinstance(value, list):
            out = []
            for i, item in enumerate(value):
                s = self.string(item, (*path, i))
                if s is not None:
                    out.append(s)
            return tuple(out)
        self.problems.append(type_problem(self.doc, path, "a string or a list of strings", value))
        return None

    def duration(self, d: Mapping, key: str, path: PathT) -> float | None:
        if key not in d or d[key] is None:
            return None
        try:
            return parse_duration(d[key])
        except ValueError as exc:
            self.err((*path, key), str(exc))
            return None

    def integer(
        self, d: Mapping, key: str, path: PathT, default: int | None, minimum: int = 0
    ) -> int | None:
        if key not in d or d[key] is None:
            return default
        value = d[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(type_problem(self.doc, (*path, key), "an integer", value))
            return default
        if value < minimum:
            self.err((*path, key), f"must be at least {minimum}, not {value}")
            return default
        return value

    def boolean(self, d: Mapping, key: str, path: PathT, default: bool = False) -> bool:
        if key not in d or d[key] is None:
            return default
        value = d[key]
        if not isinstance(value, bool):
            self.problems.append(type_problem(self.doc, (*path, key), "true or false", value))
            return default
        return value


class ProjectFields(Fields):
    """Readers for a section whose default names derive from the project's name."""

    def __init__(
        self,
        doc: Document,
        environ: Mapping[str, str],
        problems: list[Problem],
        project: str,
    ):
        super().__init__(doc, environ, problems)
        self.project = project
