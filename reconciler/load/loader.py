"""`load_spec()`: the one entry point from a spec file to a validated, normalised Spec.

    spec.yaml --source--> Document (data + marks) --validate--> Spec | SpecError

Every problem in the file (and in the files it names: env files, .env, build contexts) is
collected and raised at once as one SpecError with located, sorted problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import SpecError
from reconciler.model.spec import Spec


def load_spec(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    project: str | None = None,
) -> Spec:
    """Load, interpolate, validate and normalise a spec file.

    `environ` defaults to os.environ (a `.env` beside the spec adds variables; the
    environment wins). `project` overrides the spec's `project` (like `docker compose -p`).
    Raises SpecError with every problem found.
    """
    from reconciler.load.source import load_document
    from reconciler.load.validate import check_document

    doc = load_document(path)
    spec, problems = check_document(doc, environ, project)
    if problems or spec is None:
        raise SpecError(problems)
    return spec
