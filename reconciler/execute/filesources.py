"""Writes the files of `environment` and `content` secrets and configs (issue 13) before a
container that mounts them is created.

Called by execute/containers.py. A source's file lives at FileSource.host_path (under the
user's state folder: $XDG_STATE_HOME/reconciler/files/<project>/, chosen by the loader, named
by the content's digest, so a changed value is a new file and a new config hash). The folder is
private to the user (0700); the file is read-only (0444) so that a container running as
another user can read its secret, as with Compose's file secrets. Written atomically; an
existing file with the right content is left alone.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.model.spec import Spec


def write_sources(spec: Spec | None, config: Mapping[str, Any]) -> None:
    """Make sure the host file of every secret and config the container config mounts exists
    with its content (`file` sources are the user's own files: only checked)."""
    if spec is None:
        return
    for kind in ("secrets", "configs"):
        known = getattr(spec, kind)
        for use in config.get(kind) or ():
            source = known.get(use["source"])
            if source is None:
                continue
            if source.content is None:
                if not Path(use["file"]).is_file():
                    raise ReconcilerError(
                        f"{kind[:-1]} {source.key}: file not found: {use['file']}"
                    )
                continue
            _write(Path(source.host_path or use["file"]), source.content.encode())


def _write(path: Path, data: bytes) -> None:
    if (
        path.is_file()
        and hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    ):
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
