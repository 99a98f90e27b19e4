"""The spec file, the `.env` beside it and its env files as the watch loop sees them (for
Compose input also every file read: -f, override, extends and include files, --env-file):
loaded once at start (`SpecSource.load_initial`), re-read on every pass (`refresh`), hashed to
tell a real change from a touch. The last good spec stays in force. Used by loop.Watcher."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import Problem, SpecError
from reconciler.load.bounds import MAX_BYTES
from reconciler.load.inputs import Inputs, load_inputs
from reconciler.load.normalize.scalars import resolve_host_path
from reconciler.load.source import document
from reconciler.model.spec import Spec


class SpecSource:
    """The spec file, the `.env` beside it and its env files: loads them and says whether
    their content changed (sha256 over every input). Keeps the last good Spec."""

    def __init__(
        self,
        path: str | Path | Inputs,
        environ: Mapping[str, str] | None = None,
        project: str | None = None,
    ) -> None:
        self.spec_inputs = path if isinstance(path, Inputs) else Inputs([str(path)], True, project)
        self.display = self.spec_inputs.display
        self.path = Path(os.path.abspath(os.path.expanduser(self.spec_inputs.files[0])))
        self.environ = os.environ if environ is None else environ
        self.project_override = self.spec_inputs.project
        # every file the last load read (Compose: -f, override, extends, include) and --env-file
        self.read_files: tuple[Path, ...] = tuple(
            Path(os.path.abspath(os.path.expanduser(f)))
            for f in (*self.spec_inputs.files, *self.spec_inputs.env_files)
        )
        self.spec: Spec | None = None
        self.generation = 0  # bumped whenever the spec in force changes
        self.digest: str | None = None  # of the inputs last read (good or bad)
        self.env_files: tuple[Path, ...] = ()
        self.error: str | None = None  # why the file on disk is not in force (None: it is)

    def inputs(self) -> tuple[Path, ...]:
        extra = tuple(p for p in self.read_files if p != self.path)
        return (self.path, self.path.parent / ".env", *self.env_files, *extra)

    def contexts(self) -> dict[Path, tuple[str, ...]]:
        """Build context folder -> the Dockerfile names built from it."""
        found: dict[Path, list[str]] = {}
        for img in self.spec.images.values() if self.spec else ():
            if img.build is not None:
                dockerfiles = found.setdefault(Path(os.path.abspath(img.build.context)), [])
                if img.build.dockerfile not in dockerfiles:
                    dockerfiles.append(img.build.dockerfile)
        return {context: tuple(found[context]) for context in sorted(found)}

    def _read_inputs(self) -> tuple[str | None, tuple[Path, ...]]:
        """(digest or None when the spec file cannot be read, env files named in it)."""
        try:
            text = _read_bounded(self.path)
        except OSError:
            return None, self.env_files
        # a file over the size bound is hashed by its stat, never read or parsed (the loader
        # refuses it with a located error); its env files stay those of the last good spec
        env_files = _env_files(text, self.path, self.display) if text[:1] != b"\0" else None
        env_files = env_files or self.env_files
        h = hashlib.sha256()
        extra = tuple(p for p in self.read_files if p != self.path and p not in env_files)
        for p in (self.path, self.path.parent / ".env", *env_files, *extra):
            h.update(str(p).encode() + b"\0")
            try:
                h.update(text if p == self.path else _read_bounded(p))
            except OSError:
                h.update(b"\0missing")
            h.update(b"\0")
        return h.hexdigest(), env_files

    def load_initial(self) -> Spec:
        """The first load: errors raise SpecError (watch does not start on a bad spec)."""
        digest, self.env_files = self._read_inputs()
        spec = self._load()
        self.spec, self.digest, self.generation = spec, digest, 1
        return spec

    def _load(self) -> Spec:
        spec, files = load_inputs(self.spec_inputs, self.environ)
        self.read_files = tuple(dict.fromkeys((*self.read_files, *files)))
        return spec

    def refresh(self) -> tuple[str, SpecError | None]:
        """Re-read the inputs. Returns (outcome, error):
        `same` (content unchanged), `changed` (a new good spec is in force), `unchanged`
        (content changed, spec equal), `invalid` (error; last good kept), `missing` (spec file
        gone or unreadable; last good kept)."""
        digest, env_files = self._read_inputs()
        if digest is None:
            if self.digest is None:
                return "same", None
            self.digest = None
            self.error = f"{self.display} was deleted or cannot be read"
            return "missing", None
        if digest == self.digest:
            return "same", None
        self.digest, self.env_files = digest, env_files
        try:
            spec = self._load()
        except SpecError as exc:
            self.error = f"{len(exc.problems)} problem(s) in {self.display}"
            return "invalid", exc
        except Exception as exc:  # no input file may end the watch loop: report, keep the last
            self.error = f"internal error loading {self.display}"
            problem = Problem(
                f"internal error while loading the spec ({type(exc).__name__}: {exc}); "
                "the last good spec stays in force",
                None,
            )
            return "invalid", SpecError([problem])
        if self.spec is not None and spec.project != self.spec.project:
            changed = SpecError(
                [
                    Problem(
                        f"the project changed from {self.spec.project} to {spec.project}; "
                        "watch follows one project: restart it (or use -p) to switch",
                        None,
                        "project",
                    )
                ]
            )
            self.error = "the project name changed"
            return "invalid", changed
        self.error = None
        if spec == self.spec:
            return "unchanged", None
        self.spec = spec
        self.generation += 1
        return "changed", None


def _read_bounded(path: Path) -> bytes:
    """The file's bytes; for a file over MAX_BYTES (or not a regular file) a NUL-led stand-in
    made from its stat, so that a change is still seen but nothing big is read."""
    st = path.stat()
    if st.st_size > MAX_BYTES or not os.path.isfile(path):
        return f"\0{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode()
    with path.open("rb") as f:
        return f.read(MAX_BYTES + 1)


def _env_files(text: bytes, path: Path, display: str) -> tuple[Path, ...] | None:
    """The env files a spec names (containers.*.env_file), resolved beside the spec. None when
    the file does not parse. Names with ${VAR} are skipped (their folder is the spec's anyway,
    mostly); resync catches the rest."""
    try:
        doc = document(text.decode("utf-8"), path, display)
    except Exception:  # any file: the loader reports its problems, discovery just gives up
        return None
    containers = doc.data.get("containers") if isinstance(doc.data, dict) else None
    found: list[Path] = []
    for value in (containers or {}).values() if isinstance(containers, dict) else ():
        files = value.get("env_file") if isinstance(value, dict) else None
        names = [files] if isinstance(files, str) else files if isinstance(files, list) else []
        for name in names:
            if isinstance(name, str) and "$" not in name:
                p = Path(resolve_host_path(name, path.parent))
                if p not in found:
                    found.append(p)
    return tuple(found)
