"""Validation: interpolation, JSON Schema and semantic checks -> a Spec or located problems."""

from __future__ import annotations

import os
from collections.abc import Mapping

from reconciler.errors import Problem
from reconciler.source import Document


def dotenv_variables(doc: Document) -> tuple[dict[str, str], list[Problem]]:
    """Variables of the `.env` file beside the spec (none if there is no such file)."""
    from reconciler.envfile import read_env_file

    path = doc.folder / ".env"
    if not path.is_file():
        return {}, []
    return read_env_file(path, str(path))


def check_document(
    doc: Document, environ: Mapping[str, str] | None = None, project: str | None = None
):
    """(Spec or None, problems)."""
    from reconciler.interpolate import interpolate_document
    from reconciler.normalize import Normalizer

    environ = os.environ if environ is None else environ
    variables, problems = dotenv_variables(doc)
    variables.update(environ)
    data, interp_problems, interpolated = interpolate_document(doc, variables)
    problems.extend(interp_problems)
    normalizer = Normalizer(doc, data, variables, interpolated=interpolated)
    spec = normalizer.spec(project)
    problems.extend(normalizer.problems)
    return (None if problems else spec), problems
