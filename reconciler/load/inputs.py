"""Which file(s) a command reads, and reading them: a spec v1 file, or Compose files (a file
with top-level `services`) read under the Compose Specification's rules into the same Spec.

Without SPEC or -f, the current folder's `reconciler.yaml`, else `compose.yaml`,
`compose.yml`, `docker-compose.yaml` or `docker-compose.yml` (as `docker compose` looks), or
COMPOSE_FILE. A Compose file found that way or given as SPEC brings its override file
(`compose.override.yaml`, `docker-compose.override.yml`) along; `-f` files are taken as given,
merged in order. The Compose reader is imported only for Compose input (a lazy seam: a spec
v1 read never loads it). Called by commands/common.py, commands/validate.py, commands/convert.py and
watch/specsource.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from msgspec import Struct, field

from reconciler.errors import Problem, SpecError
from reconciler.load.compose.files import COMPOSE_FILES, SPEC_FILE, default_file
from reconciler.load.loader import load_spec
from reconciler.model.spec import Spec

_SERVICES = re.compile(rb"^services[ \t]*:", re.MULTILINE)
_V1 = re.compile(rb"^(containers|images)[ \t]*:", re.MULTILINE)


class Inputs(Struct):
    """The files a command reads and the options that go with Compose files."""

    files: list[str]
    explicit: bool = False  # -f given: no override file picked up
    project: str | None = None
    env_files: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    target: str | None = None  # --target (spec v1's engine | swarm)

    @property
    def display(self) -> str:
        return ", ".join(self.files)


def choose_files(
    spec: str | None, files: Sequence[str], environ: Mapping[str, str], cwd: Path | None = None
) -> tuple[list[str], bool]:
    """(files, explicit): SPEC and -f files, else COMPOSE_FILE, else the folder's default.
    Raises SpecError when there is none."""
    given = ([spec] if spec else []) + list(files)
    if given:
        return given, bool(files)
    if environ.get("COMPOSE_FILE"):
        names = [n for n in environ["COMPOSE_FILE"].split(os.pathsep) if n]
        return names, len(names) > 1
    folder = cwd or Path.cwd()
    found = default_file(folder)
    if found is None:
        known = ", ".join((SPEC_FILE, *COMPOSE_FILES))
        raise SpecError(
            [
                Problem(
                    f"no spec given and none of {known} in {folder}",
                    None,
                    "",
                    "give SPEC or -f FILE",
                )
            ]
        )
    return [found.name if cwd is None else str(found)], False


def is_compose(path: str) -> bool:
    """A file with a top-level `services` key (and no spec v1 sections) is a Compose file."""
    try:
        with open(os.path.expanduser(path), "rb") as f:
            head = f.read(4 * 1024 * 1024)
    except OSError:
        return False  # the spec v1 loader reports it
    return bool(_SERVICES.search(head)) and not _V1.search(head)


def load_inputs(inputs: Inputs, environ: Mapping[str, str]) -> tuple[Spec, list[Path]]:
    """The Spec and every file read (watch watches them). Raises SpecError."""
    if not any(is_compose(f) for f in inputs.files):
        if len(inputs.files) > 1:
            raise SpecError(
                [
                    Problem(
                        "several files are merged only when they are Compose "
                        f"files: {inputs.display}",
                        None,
                        "",
                        "give one spec v1 file",
                    )
                ]
            )
        spec = load_spec(inputs.files[0], environ, inputs.project, inputs.target)
        return spec, [Path(os.path.abspath(os.path.expanduser(inputs.files[0])))]
    from reconciler.load.compose.loader import ComposeOptions, load_compose  # lazy seam

    options = ComposeOptions(
        project=inputs.project,
        env_files=list(inputs.env_files),
        profiles=list(inputs.profiles),
        default_override=not inputs.explicit,
        target=inputs.target,
    )
    return load_compose(inputs.files, environ, options)
