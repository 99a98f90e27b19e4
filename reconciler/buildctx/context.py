"""Build contexts: the files a build sends and the source hash over them.

Used at plan time (reconcile and `status` compute one `BuildSource` per built image with
`build_sources` before the pure planner runs) and by buildctx.archive, which writes the
archive a build sends and hashes exactly those bytes. Public names:

- `context_files(context, dockerfile="Dockerfile") -> [(relpath, mode, sha256)]`, sorted
- `source_hash(build) -> (hash, manifest)`; manifest: relpath -> short hash of mode+content
- `build_source(build)` / `build_sources(spec)` -> `BuildSource` (hash, manifest, inputs, the
  Dockerfile's FROM images)
- `walk`, `file_digest`, `remember_digest`, `combine`, `build_inputs`, `dockerfile_path`,
  `dockerfile_in_context`, `with_analysis`: the pieces buildctx.archive shares

Which files are sent follows `.dockerignore` (buildctx.dockerignore). Hashing is cheap when
nothing changed: file digests are cached by (path, size, mtime_ns, inode, ctime_ns), so a pass
stats every kept file but reads only the changed ones; `build_sources` keeps each context's
digests between runs in the user's cache folder (buildctx/digestcache.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from msgspec import Struct

from reconciler.buildctx import digestcache
from reconciler.buildctx.dockerignore import effective_rules, load_rules, matches, may_reinclude
from reconciler.buildctx.stages import analyse
from reconciler.model.build import BuildSource
from reconciler.model.spec import BuildSpec, Spec

SHORT = 10  # hex digits of a manifest entry
_CHUNK = 1 << 20
_LOCK = threading.Lock()


class Entry(Struct, frozen=True):
    """One entry a build sends, yielded by `walk()`: read by `context_files` and
    buildctx.archive."""

    relpath: str
    path: str  # absolute
    st: os.stat_result
    kind: str  # file | dir | symlink


def walk(context: str, dockerfile: str = "Dockerfile") -> Iterator[Entry]:
    """Every entry a build sends (folders, regular files, symlinks), in sorted order; other
    file types (sockets, fifos) are skipped like Docker does."""
    rules = effective_rules(load_rules(context), dockerfile)
    root = os.path.abspath(context)

    def visit(folder: str, prefix: str) -> Iterator[Entry]:
        try:
            with os.scandir(folder) as it:
                found = sorted((e.name, e.path) for e in it)
        except OSError as exc:
            raise OSError(f"cannot read {folder}: {exc.strerror or exc}") from exc
        for name, path in found:
            rel = f"{prefix}{name}"
            st = os.lstat(path)
            excluded = bool(rules) and matches(rules, rel)
            if stat.S_ISDIR(st.st_mode):
                if excluded and not may_reinclude(rules, rel):
                    continue
                if not excluded:
                    yield Entry(rel, path, st, "dir")
                yield from visit(path, rel + "/")
            elif excluded:
                continue
            elif stat.S_ISREG(st.st_mode):
                yield Entry(rel, path, st, "file")
            elif stat.S_ISLNK(st.st_mode):
                yield Entry(rel, path, st, "symlink")

    yield from visit(root, "")


_DIGESTS: digestcache.Digests = {}


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def file_digest(path: str, st: os.stat_result | None = None) -> str:
    """sha256 of a file's content (of a symlink: its target text), cached by stat."""
    st = st or os.lstat(path)
    key = _stat_key(st)
    with _LOCK:
        cached = _DIGESTS.get(path)
    if cached and cached[0] == key:
        return cached[1]
    if stat.S_ISLNK(st.st_mode):
        digest = hashlib.sha256(os.readlink(path).encode()).hexdigest()
    else:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()
    with _LOCK:
        _DIGESTS[path] = (key, digest)
    return digest


def remember_digest(path: str, st: os.stat_result, digest: str) -> None:
    """Cache the digest of content read elsewhere (the archive hashes what it sends)."""
    with _LOCK:
        _DIGESTS[path] = (_stat_key(st), digest)


def context_files(context: str, dockerfile: str = "Dockerfile") -> list[tuple[str, int, str]]:
    """(relpath, st_mode, sha256 of content) of every file and symlink a build sends, sorted
    by relpath. OSError when the context cannot be read, ValueError for a bad .dockerignore."""
    out = [
        (e.relpath, e.st.st_mode, file_digest(e.path, e.st))
        for e in walk(context, dockerfile)
        if e.kind != "dir"
    ]
    return sorted(out)


def short_entry(mode: int, digest: str) -> str:
    return hashlib.sha256(f"{mode:o}:{digest}".encode()).hexdigest()[:SHORT]


def _short(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()[:SHORT]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def combine(files: list[tuple[str, int, str]], inputs: Mapping[str, str]) -> BuildSource:
    """The BuildSource (hash and manifest, no FROM images yet) of the files and inputs."""
    manifest = {rel: short_entry(mode, digest) for rel, mode, digest in files}
    h = hashlib.sha256()
    h.update(_canonical(dict(inputs)).encode())
    for rel, mode, digest in files:
        h.update(f"\0{rel}\0{mode:o}\0{digest}".encode())
    return BuildSource(h.hexdigest(), manifest, dict(inputs))


def dockerfile_path(build: BuildSpec) -> str:
    """The Dockerfile's absolute path."""
    return os.path.normpath(os.path.join(build.context, build.dockerfile))


def dockerfile_in_context(build: BuildSpec) -> str | None:
    """The Dockerfile's path relative to the context, or None when it lies outside."""
    rel = os.path.relpath(dockerfile_path(build), os.path.abspath(build.context))
    return None if rel == ".." or rel.startswith("../") else rel.replace(os.sep, "/")


def build_inputs(build: BuildSpec, dockerfile_text: bytes) -> dict[str, str]:
    """What defines a build besides its files: the Dockerfile, args, target and labels."""
    return {
        "dockerfile": hashlib.sha256(dockerfile_text).hexdigest()[:SHORT],
        "dockerfile_path": build.dockerfile,
        "args": _short(dict(build.args)),
        "target": build.target or "",
        "labels": _short(dict(build.labels)),
    }


def build_source(build: BuildSpec) -> BuildSource:
    """Hash, manifest and FROM images of one build. Raises OSError / ValueError."""
    with open(dockerfile_path(build), "rb") as f:
        text = f.read()
    rel_df = dockerfile_in_context(build) or build.dockerfile
    files = context_files(build.context, rel_df)
    source = combine(files, build_inputs(build, text))
    return with_analysis(source, text, build)


def with_analysis(source: BuildSource, text: bytes, build: BuildSpec) -> BuildSource:
    """The source with what the Dockerfile's stage analysis adds: the FROM images the target's
    stages need, a `# syntax=` directive, a heredoc's line."""
    found = analyse(text.decode("utf-8", errors="replace"), build.args, build.target)
    return BuildSource(
        source.hash,
        source.manifest,
        source.inputs,
        found.bases,
        syntax=found.syntax,
        heredoc_line=found.heredoc_line,
    )


def source_hash(build: BuildSpec) -> tuple[str, dict[str, str]]:
    """(source hash, manifest relpath -> short hash): over the Dockerfile's content, the build
    args, target and labels, and every kept file's path, mode and content."""
    source = build_source(build)
    return source.hash, dict(source.manifest)


def build_sources(spec: Spec) -> dict[str, BuildSource]:
    """One BuildSource per built image of the spec; errors are kept in `error` (the planner
    turns them into located plan errors)."""
    out: dict[str, BuildSource] = {}
    builds = {key: image.build for key, image in spec.images.items() if image.build is not None}
    for key, build in builds.items():
        root = os.path.abspath(build.context)
        stored = digestcache.load(root)
        with _LOCK:
            for path, entry in stored.items():
                _DIGESTS.setdefault(path, entry)
        try:
            out[key] = source = build_source(build)
        except (OSError, ValueError) as exc:
            out[key] = BuildSource(error=f"cannot read the build context: {_reason(exc)}")
            continue
        with _LOCK:  # the files this context sent now: deleted ones drop out of the cache
            sent = (os.path.join(root, rel) for rel in source.manifest)
            kept = {path: _DIGESTS[path] for path in sent if path in _DIGESTS}
        if kept != stored:
            digestcache.save(root, kept)
    return out


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)
