"""The top-level `secrets:` and `configs:` sections -> FileSource (model/container_options.py).

Called by load/normalize/normalizer.py. A source is a `file` (relative to the spec's folder,
read here for its digest), an `environment` variable (its value, from the loader's
environment) or, for configs, inline `content`. Without Swarm a container gets each one as a
read-only bind mount: the file itself, or a file that the executor writes (execute/filesources.py)
under the user's state folder, at `host_path`, named by the content's digest so that a changed
value replaces the containers that use it. `external` sources exist only in Swarm: refused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.load.normalize.fields import ProjectFields
from reconciler.load.normalize.scalars import resolve_host_path
from reconciler.load.source import PathT
from reconciler.model import container_options as O

MAX_BYTES = 1 << 20  # a secret or config larger than 1 MiB is a mistake (Swarm's limit: 500 KiB)


def state_folder(environ: Mapping[str, str]) -> Path:
    """$XDG_STATE_HOME/reconciler, or ~/.local/state/reconciler."""
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "reconciler"


def content_path(environ: Mapping[str, str], project: str, kind: str, key: str, digest: str) -> str:
    """Where the file of an `environment`/`content` source is written (by the executor)."""
    return str(state_folder(environ) / "files" / project / f"{kind}-{key}-{digest[:16]}")


class FileSources(ProjectFields):
    """Normalises `secrets:` and `configs:` entries."""

    def source(self, kind: str, key: str, value: Any) -> O.FileSource | None:
        section = "secrets" if kind == "secret" else "configs"
        path: PathT = (section, key)
        d = self.mapping(value, path)
        given = [k for k in ("file", "environment", "content", "external") if d.get(k) is not None]
        allowed = (
            ("file", "environment", "content") if kind == "config" else ("file", "environment")
        )
        if d.get("external"):
            self.err(
                (*path, "external"),
                f"an external {kind} exists only in Swarm (docker {kind} create); "
                "use file or environment here",
            )
            return None
        given = [k for k in given if k != "external"]
        if len(given) != 1 or given[0] not in allowed:
            self.err(path, f"a {kind} needs exactly one of {', '.join(allowed)}", at_key=True)
            return None
        location = self.loc(path)
        if given[0] == "file":
            name = self.opt_string(d, "file", path)
            if name is None:
                return None
            file = Path(resolve_host_path(name, self.folder))
            if not file.is_file():
                what = "is a directory" if file.is_dir() else "not found"
                self.err((*path, "file"), f"{kind} file {what}: {file}")
                return None
            data = file.read_bytes()
            if len(data) > MAX_BYTES:
                self.err((*path, "file"), f"{kind} file is larger than 1 MiB: {file}")
                return None
            digest = hashlib.sha256(data).hexdigest()
            return O.FileSource(
                key, kind, file=str(file), digest=digest, host_path=str(file), location=location
            )
        if given[0] == "environment":
            variable = self.opt_string(d, "environment", path)
            if variable is None:
                return None
            content = self.environ.get(variable)
            if content is None:
                self.err((*path, "environment"), f"environment variable {variable} is not set")
                return None
        else:
            variable = None
            content = self.opt_string(d, "content", path)
            if content is None:
                return None
        digest = hashlib.sha256(content.encode()).hexdigest()
        return O.FileSource(
            key,
            kind,
            environment=variable,
            content=content,
            digest=digest,
            host_path=content_path(self.environ, self.project, kind, key, digest),
            location=location,
        )
