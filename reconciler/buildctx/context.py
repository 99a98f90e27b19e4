"""Build contexts: `.dockerignore` semantics, the files a build sends, and the source hash.

Used at plan time (reconcile.make_plan computes one `BuildSource` per built image before the
pure planner runs), at build time (images_exec writes the context archive with
`write_archive`, which hashes exactly the bytes it sends) and by watch (`is_excluded` filters
file events). Public names other modules rely on:

- `is_excluded(context, relpath, dockerfile="Dockerfile") -> bool`
- `context_files(context, dockerfile="Dockerfile") -> [(relpath, mode, sha256)]`, sorted
- `source_hash(build) -> (hash, manifest)`; manifest: relpath -> short hash of mode+content
- `build_source(build)` / `build_sources(spec)` -> `BuildSource` (hash, manifest, inputs, the
  Dockerfile's FROM images)

`.dockerignore` follows Docker's rules (moby/patternmatcher): one pattern per line, `#`
comments, leading `/` and `./` ignored, Go `filepath.Match` wildcards (`*`, `?`, `[...]`,
`\\` escapes) where `*` does not cross `/`, `**` matching any number of directories, `!`
re-including, the last matching pattern winning, and a pattern matching a folder excluding
everything in it. An excluded folder is only entered when a `!` pattern names something
inside it (as the Docker CLI does). The Dockerfile and `.dockerignore` are always sent.

Hashing is cheap when nothing changed: file digests are cached by (path, size, mtime_ns,
inode, ctime_ns), so a pass stats every kept file but reads only the changed ones.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import stat
import tarfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from reconciler.model.build import BuildSource
from reconciler.model.spec import BuildSpec, Spec

DOCKERIGNORE = ".dockerignore"
SHORT = 10  # hex digits of a manifest entry
_CHUNK = 1 << 20


# --- .dockerignore -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One `.dockerignore` pattern, cleaned and compiled."""

    pattern: str  # cleaned, without the leading `!`
    exclusion: bool  # a `!` pattern: re-includes what it matches
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


def parse_dockerignore(text: str) -> tuple[Rule, ...]:
    """The rules of a `.dockerignore` text. ValueError for a lone `!`."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip("\ufeff") if number == 1 else raw
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
            if not line:
                raise ValueError(f".dockerignore line {number}: a lone `!` is not a pattern")
        pattern = posixpath.normpath(line)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern.lstrip("/") or "/"
        if pattern == ".":
            continue  # matches only the context itself, which is always sent
        rules.append(Rule(pattern, exclusion, _compile(pattern)))
    return tuple(rules)


def _compile(pattern: str) -> re.Pattern[str]:
    """Docker's pattern -> regex translation (patternmatcher.Pattern.compile)."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1  # `**/` is `**`
                out.append(".*" if i >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i < n:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                out.append(r"\\")
        elif ch == "[":
            end = _class_end(pattern, i)
            if end < 0:
                out.append(r"\[")
            else:
                body = pattern[i:end]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(ch))
    out.append("$")
    return re.compile("".join(out), re.DOTALL)


def _class_end(pattern: str, start: int) -> int:
    """Index of the `]` closing a character class opened before `start`, or -1."""
    j = start
    if j < len(pattern) and pattern[j] in "^!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
            continue
        if pattern[j] == "]":
            return j
        j += 1
    return -1


def matches(rules: tuple[Rule, ...], relpath: str) -> bool:
    """Docker's MatchesOrParentMatches: does the last matching rule (on the path or one of its
    parent folders) exclude it?"""
    parts = relpath.split("/")
    parents = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    matched = False
    for rule in rules:
        if rule.exclusion != matched:
            continue  # an include cannot change an excluded path and vice versa
        hit = rule.matches(relpath) or any(rule.matches(p) for p in parents)
        if hit:
            matched = not rule.exclusion
    return matched


def _may_reinclude(rules: tuple[Rule, ...], reldir: str) -> bool:
    """Does a `!` pattern name something inside the excluded folder `reldir`? (Docker CLI:
    only then is the folder walked.)"""
    prefix = reldir + "/"
    return any(r.exclusion and (r.pattern + "/").startswith(prefix) for r in rules)


_RULES_CACHE: dict[str, tuple[tuple[int, int, int], tuple[Rule, ...]]] = {}
_LOCK = threading.Lock()


def load_rules(context: str) -> tuple[Rule, ...]:
    """The context's `.dockerignore` rules (none when there is no file); cached by stat.
    ValueError for an invalid file."""
    path = os.path.join(context, DOCKERIGNORE)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ()
    key = (st.st_size, st.st_mtime_ns, st.st_ino)
    with _LOCK:
        cached = _RULES_CACHE.get(path)
    if cached and cached[0] == key:
        return cached[1]
    with open(path, encoding="utf-8", errors="replace") as f:
        rules = parse_dockerignore(f.read())
    with _LOCK:
        _RULES_CACHE[path] = (key, rules)
    return rules


def _clean_rel(relpath: str) -> str:
    rel = posixpath.normpath(relpath.replace(os.sep, "/")).lstrip("/")
    return "" if rel == "." else rel


def effective_rules(rules: tuple[Rule, ...], dockerfile: str) -> tuple[Rule, ...]:
    """The rules plus `!<Dockerfile>` and `!.dockerignore` (the Docker CLI adds them too, so
    that both are sent even from an excluded folder)."""
    if not rules:
        return rules
    extra = []
    for name in (_clean_rel(dockerfile), DOCKERIGNORE):
        if name and not name.startswith(".."):
            extra.append(Rule(name, True, re.compile("^" + re.escape(name) + "$")))
    return (*rules, *extra)


def excluded_by(rules: tuple[Rule, ...], relpath: str, dockerfile: str = "Dockerfile") -> bool:
    """`is_excluded` with the rules given (pure)."""
    rel = _clean_rel(relpath)
    if not rel or rel.startswith("../") or rel == "..":
        return rel != ""  # outside the context: never sent; the context itself: sent
    rules = effective_rules(rules, dockerfile)
    if not rules:
        return False
    parts = rel.split("/")
    for i in range(1, len(parts)):  # a skipped parent folder hides everything in it
        parent = "/".join(parts[:i])
        if matches(rules, parent) and not _may_reinclude(rules, parent):
            return True
    return matches(rules, rel)


def is_excluded(context: str, relpath: str, dockerfile: str = "Dockerfile") -> bool:
    """Would a build of `context` leave out `relpath` (relative to the context, `/` or the OS
    separator)? The Dockerfile and `.dockerignore` are never excluded. An unreadable or invalid
    `.dockerignore` excludes nothing here (the plan reports it)."""
    try:
        rules = load_rules(context)
    except (OSError, ValueError):
        rules = ()
    return excluded_by(rules, relpath, dockerfile)


# --- walking and hashing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
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
                if excluded and not _may_reinclude(rules, rel):
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


_DIGESTS: dict[str, tuple[tuple[int, int, int, int], str]] = {}


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


def _combine(files: list[tuple[str, int, str]], inputs: Mapping[str, str]) -> BuildSource:
    manifest = {rel: short_entry(mode, digest) for rel, mode, digest in files}
    h = hashlib.sha256()
    h.update(_canonical(dict(inputs)).encode())
    for rel, mode, digest in files:
        h.update(f"\0{rel}\0{mode:o}\0{digest}".encode())
    return BuildSource(h.hexdigest(), manifest, dict(inputs))


def _dockerfile_path(build: BuildSpec) -> str:
    return os.path.normpath(os.path.join(build.context, build.dockerfile))


def _dockerfile_in_context(build: BuildSpec) -> str | None:
    """The Dockerfile's path relative to the context, or None when it lies outside."""
    rel = os.path.relpath(_dockerfile_path(build), os.path.abspath(build.context))
    return None if rel == ".." or rel.startswith("../") else rel.replace(os.sep, "/")


def _inputs(build: BuildSpec, dockerfile_text: bytes) -> dict[str, str]:
    return {
        "dockerfile": hashlib.sha256(dockerfile_text).hexdigest()[:SHORT],
        "dockerfile_path": build.dockerfile,
        "args": _short(dict(build.args)),
        "target": build.target or "",
        "labels": _short(dict(build.labels)),
    }


def build_source(build: BuildSpec) -> BuildSource:
    """Hash, manifest and FROM images of one build. Raises OSError / ValueError."""
    with open(_dockerfile_path(build), "rb") as f:
        text = f.read()
    rel_df = _dockerfile_in_context(build) or build.dockerfile
    files = context_files(build.context, rel_df)
    source = _combine(files, _inputs(build, text))
    bases = dockerfile_bases(text.decode("utf-8", errors="replace"), build.args)
    return BuildSource(source.hash, source.manifest, source.inputs, bases)


def source_hash(build: BuildSpec) -> tuple[str, dict[str, str]]:
    """(source hash, manifest relpath -> short hash): over the Dockerfile's content, the build
    args, target and labels, and every kept file's path, mode and content."""
    source = build_source(build)
    return source.hash, dict(source.manifest)


def build_sources(spec: Spec) -> dict[str, BuildSource]:
    """One BuildSource per built image of the spec; errors are kept in `error` (the planner
    turns them into located plan errors)."""
    out: dict[str, BuildSource] = {}
    for key, image in spec.images.items():
        if image.build is None:
            continue
        try:
            out[key] = build_source(image.build)
        except (OSError, ValueError) as exc:
            out[key] = BuildSource(error=f"cannot read the build context: {_reason(exc)}")
    return out


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


# --- the archive sent to the engine ---------------------------------------------------------------


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


@dataclass(frozen=True)
class Archive:
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
    last stage) they are left to the API: `api_labels`."""
    with open(_dockerfile_path(build), "rb") as f:
        text = f.read()
    rel_df = _dockerfile_in_context(build)
    files: list[tuple[str, int, str]] = []
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
                with _LOCK:
                    _DIGESTS[entry.path] = (_stat_key(entry.st), digest)
                files.append((entry.relpath, entry.st.st_mode, digest))
        base = _combine(sorted(files), _inputs(build, text))
        bases = dockerfile_bases(text.decode("utf-8", errors="replace"), build.args)
        source = BuildSource(base.hash, base.manifest, base.inputs, bases)
        wanted = dict(labels(source)) if labels is not None else {}
        name = rel_df
        api_labels: Mapping[str, str] = {}
        hidden: list[str] = []
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
    info = info or tarfile.TarInfo(name)
    info.size = len(data)
    if info.mode == tarfile.TarInfo().mode:
        info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def with_label_instruction(dockerfile: bytes, labels: Mapping[str, str]) -> bytes:
    """The Dockerfile with one `LABEL "k"="v" ...` instruction appended (values quoted with the
    Dockerfile's escape character, `$` escaped so nothing is substituted)."""
    text = dockerfile.decode("utf-8", errors="surrogateescape")
    escape = _escape_char(text)

    def quote(value: str) -> str:
        out = value.replace(escape, escape + escape)
        for ch in ('"', "$"):
            out = out.replace(ch, escape + ch)
        return '"' + out.replace("\n", " ") + '"'

    pairs = " ".join(f"{quote(k)}={quote(v)}" for k, v in sorted(labels.items()))
    if text and not text.endswith("\n"):
        text += "\n"
    text += f"\nLABEL {pairs}\n"
    return text.encode("utf-8", errors="surrogateescape")


def _escape_char(text: str) -> str:
    for line in text.splitlines():
        m = re.match(r"\s*#\s*escape\s*=\s*(\S)\s*$", line, re.IGNORECASE)
        if m:
            return m.group(1)
        if not re.match(r"\s*#\s*\w+\s*=", line):
            break
    return "\\"


# --- Dockerfile FROM lines -----------------------------------------------------------------------

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_VAR_DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    escape = _escape_char(text)  # parser directives come first: `# escape=``
    lines = text.splitlines()
    out: list[tuple[str, str]] = []
    current = ""
    for raw in lines:
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped
        if stripped.endswith(escape):
            current += stripped[: -len(escape)] + " "
            continue
        current += stripped
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    if current.strip():
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_bases(text: str, args: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The images a Dockerfile builds on: FROM images and `COPY --from=<image>`, with `ARG`
    defaults declared before the first FROM and the build args substituted; stage names,
    stage numbers and `scratch` are left out. Order of first appearance."""
    args = dict(args or {})
    variables: dict[str, str] = {}
    stages: set[str] = set()
    out: list[str] = []
    seen_from = False

    def subst(value: str) -> str:
        def default(m: re.Match[str]) -> str:
            return variables.get(m.group(1)) or m.group(2)

        value = _VAR_DEFAULT.sub(default, value)
        return _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)

    def add(ref: str) -> None:
        ref = subst(ref)
        if not ref or "$" in ref or ref.lower() in stages or ref == "scratch" or ref.isdigit():
            return
        if ref not in out:
            out.append(ref)

    for word, rest in dockerfile_instructions(text):
        if word == "ARG" and not seen_from:
            for item in rest.split():
                name, eq, value = item.partition("=")
                value = value.strip("\"'")
                variables[name] = args.get(name, value if eq else variables.get(name, ""))
        elif word == "FROM":
            seen_from = True
            tokens = [t for t in rest.split() if not t.startswith("--")]
            if not tokens:
                continue
            add(tokens[0])
            if len(tokens) >= 3 and tokens[1].lower() == "as":
                stages.add(tokens[2].lower())
        elif word in ("COPY", "ADD"):
            for token in rest.split():
                if token.startswith("--from="):
                    add(token.removeprefix("--from="))
                elif not token.startswith("--"):
                    break
    return tuple(out)
