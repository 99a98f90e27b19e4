"""Finding and reading Compose files: default file discovery (as `docker compose` does), the
override file picked up beside the first one, the project's variables (`.env` or
`--env-file`, then the environment), interpolation under Compose's rules (an unset variable
warns and becomes empty) and the project name.

Called by load/compose/loader.py and load/inputs.py. Each file is kept as a
load/source.Document so that every later error can name FILE:LINE:COLUMN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from reconciler.errors import Problem
from reconciler.load.envfile import read_env_file
from reconciler.load.interpolate import InterpolationError, UnsetVariable, substitute
from reconciler.load.source import Document, PathT, load_document

# `docker compose` looks for these, in this order; reconciler.yaml (spec v1) comes first
SPEC_FILE = "reconciler.yaml"
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_FILES = {
    "compose.yaml": ("compose.override.yaml", "compose.override.yml"),
    "compose.yml": ("compose.override.yml", "compose.override.yaml"),
    "docker-compose.yaml": ("docker-compose.override.yaml", "docker-compose.override.yml"),
    "docker-compose.yml": ("docker-compose.override.yml", "docker-compose.override.yaml"),
}
PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def default_file(folder: Path) -> Path | None:
    """reconciler.yaml, else the first Compose file name found in `folder`."""
    for name in (SPEC_FILE, *COMPOSE_FILES):
        if (folder / name).is_file():
            return folder / name
    return None


def override_file(first: Path) -> Path | None:
    """The override file `docker compose` merges when no -f is given."""
    for name in OVERRIDE_FILES.get(first.name, ()):
        if (first.parent / name).is_file():
            return first.parent / name
    return None


def normalize_project_name(text: str) -> str:
    """Compose's normalisation of a folder name: lower case, only a-z 0-9 _ -, no leading
    _ or -."""
    kept = "".join(c for c in text.lower() if c.isascii() and (c.isalnum() or c in "_-"))
    return kept.lstrip("_-")


def project_variables(
    first: Path, env_files: list[str], environ: Mapping[str, str]
) -> tuple[dict[str, str], list[Problem]]:
    """`.env` beside the first file (or the --env-file files instead, as Compose does), then
    the environment, which wins."""
    variables: dict[str, str] = {}
    problems: list[Problem] = []
    if env_files:
        for name in env_files:
            path = Path(name).expanduser().absolute()
            values, found = read_env_file(path, name)
            variables.update(values)
            problems.extend(found)
    elif (first.absolute().parent / ".env").is_file():
        values, found = read_env_file(first.absolute().parent / ".env", str(first.parent / ".env"))
        variables.update(values)
        problems.extend(found)
    variables.update(environ)
    return variables, problems


class ComposeFile(Struct):
    """One Compose file: its document (marks) and its data after interpolation."""

    doc: Document
    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def read_compose(path: str | Path, variables: Mapping[str, str]) -> ComposeFile:
    """Load and interpolate one file (raises SpecError when it is not YAML)."""
    doc = load_document(path)
    out = ComposeFile(doc, {}, list(getattr(doc, "problems", [])))
    out.data = interpolate(doc, doc.data, (), variables, out)
    return out


def interpolate(
    doc: Document, value: Any, path: PathT, variables: Mapping[str, str], out: ComposeFile
) -> Any:
    """Compose interpolation of every string value (not keys): `${VAR}` unset is a warning
    and an empty string; `${VAR:?err}` is still an error."""
    if isinstance(value, dict):
        return {k: interpolate(doc, v, (*path, k), variables, out) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(doc, v, (*path, i), variables, out) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    empty: set[str] = set()

    def lookup(name: str) -> str | None:
        return "" if name in empty else variables.get(name)

    while True:
        try:
            return substitute(value, lookup)
        except UnsetVariable as exc:
            empty.add(exc.name)
            out.warnings.append(
                doc.problem(
                    path,
                    f"variable {exc.name} is not set: it becomes an empty string",
                    f"set it, or give a default with ${{{exc.name}:-default}}",
                )
            )
        except InterpolationError as exc:
            out.problems.append(doc.problem(path, exc.message, exc.hint))
            return value
