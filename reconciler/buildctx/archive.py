"""The build context as the tar archive sent to the engine, hashed as it is written.

Called by execute/images.py (`write_archive`) when it builds an image: the `BuildSource`
returned is computed from the bytes written, so the source-hash label describes exactly what
was built.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING

from msgspec import Struct

from reconciler.buildctx.context import (
    build_inputs,
    combine,
    dockerfile_in_context,
    dockerfile_path,
    file_digest,
    remember_digest,
    walk,
    with_analysis,
)
from reconciler.buildctx.dockerfile import with_label_instruction
from reconciler.buildctx.dockerignore import DOCKERIGNORE
from reconciler.buildctx.stages import analyse
from reconciler.model.build import BuildSource
from reconciler.model.spec import BuildSpec

if TYPE_CHECKING:
    import tarfile

__all__ = ["Archive", "BuildSource", "LabelsFn", "write_archive"]


class _HashingReader:
    def __init__(self, f: IO[bytes], size: int) -> None:
        self.f = f
        self.left = size
        self.h = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(self.left if n < 0 else min(n, self.left))
        self.left -= len(data)
        self.h.update(data)
        return data


class Archive(Struct, frozen=True):
    """What `write_archive` wrote: execute/images.py and execute/builder.py build from it."""

    source: BuildSource  # of the bytes written
    dockerfile: str  # the Dockerfile's name inside the archive
    api_labels: Mapping[str, str]  # labels still to pass to the build API (see write_archive)


LabelsFn = Callable[[BuildSource], Mapping[str, str]]


def write_archive(build: BuildSpec, out: IO[bytes], labels: LabelsFn | None = None) -> Archive:
    """Write the build context as an uncompressed tar to `out`. The BuildSource returned is
    computed from the bytes written, so the source-hash label describes exactly what was
    built.

    `labels(source)` gives the labels the image gets. The classic builder turns each label
    passed through the API into a build step of its own (a container and a commit each), so
    they are appended instead as one LABEL instruction to a copy of the Dockerfile inside the
    archive, which the archive's .dockerignore then hides from the context (the engine removes
    an ignored Dockerfile after reading it). With a `target` stage (the LABEL would land in the
    last stage) they are left to the API: `api_labels`.

    The Dockerfile sent has the stages the target does not need emptied (`FROM scratch`) and
    no `# syntax=` directive (buildctx.stages); the source hash covers the file as written."""
    with open(dockerfile_path(build), "rb") as f:
        text = f.read()
    rel_df = dockerfile_in_context(build)
    files: list[tuple[str, int, str]] = []
    import tarfile  # stdlib, lazy: a no-op plan hashes contexts but writes no tar (issue 14)

    ignore: tuple[tarfile.TarInfo, bytes] | None = None
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in walk(build.context, rel_df or build.dockerfile):
            info = tarfile.TarInfo(entry.relpath)
            info.mode = stat.S_IMODE(entry.st.st_mode)
            info.mtime = int(entry.st.st_mtime)
            info.uid = info.gid = 0
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(entry.path)
                tar.addfile(info)
                files.append((entry.relpath, entry.st.st_mode, file_digest(entry.path, entry.st)))
            elif entry.relpath == DOCKERIGNORE:  # added last: it may get a line more
                with open(entry.path, "rb") as f:
                    content = f.read()
                info.size = len(content)
                ignore = (info, content)
                digest = hashlib.sha256(content).hexdigest()
                files.append((entry.relpath, entry.st.st_mode, digest))
            else:
                info.size = entry.st.st_size
                with open(entry.path, "rb") as f:
                    reader = _HashingReader(f, info.size)
                    tar.addfile(info, reader)  # type: ignore[arg-type]
                    if reader.left or f.read(1):
                        raise OSError(f"{entry.path} changed while the build context was read")
                digest = reader.h.hexdigest()
                remember_digest(entry.path, entry.st, digest)
                files.append((entry.relpath, entry.st.st_mode, digest))
        source = with_analysis(combine(sorted(files), build_inputs(build, text)), text, build)
        wanted = dict(labels(source)) if labels is not None else {}
        name = rel_df
        api_labels: Mapping[str, str] = {}
        hidden: list[str] = []
        sent = analyse(text.decode("utf-8", errors="surrogateescape"), build.args, build.target)
        if sent.text.encode("utf-8", errors="surrogateescape") != text:  # stages emptied
            text = sent.text.encode("utf-8", errors="surrogateescape")
            name = None
        if wanted and not build.target:
            text = with_label_instruction(text, wanted)
            name = f".reconciler-dockerfile-{hashlib.sha256(text).hexdigest()[:12]}"
            hidden.append(name)
        else:
            api_labels = wanted
            if name is None:  # a Dockerfile outside the context travels inside the archive
                name = f".reconciler-dockerfile-{hashlib.sha256(text).hexdigest()[:12]}"
                hidden.append(name)
        if name != rel_df:
            _add_bytes(tar, name, text)
        if hidden:
            if ignore is None:  # an ignore file of our own hides itself too
                ignore = (tarfile.TarInfo(DOCKERIGNORE), b"")
                hidden.insert(0, DOCKERIGNORE)
            info, content = ignore
            if content and not content.endswith(b"\n"):
                content += b"\n"
            content += "".join(f"{h}\n" for h in hidden).encode()
            ignore = (info, content)
        if ignore is not None:
            _add_bytes(tar, DOCKERIGNORE, ignore[1], ignore[0])
    return Archive(source, name, api_labels)


def _add_bytes(
    tar: tarfile.TarFile, name: str, data: bytes, info: tarfile.TarInfo | None = None
) -> None:
    import tarfile  # stdlib, lazy (see write_archive)

    info = info or tarfile.TarInfo(name)
    info.size = len(data)
    if info.mode == tarfile.TarInfo().mode:
        info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
