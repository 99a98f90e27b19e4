"""File watching: watchdog observers on the spec's folder(s) and the build contexts that fire
`spec` and `context` triggers. loop.Watcher owns one `FileWatch` and calls `check()` every
second. watchdog is imported only when the first observer starts."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from reconciler.buildctx.dockerignore import is_excluded
from reconciler.watch.log import WatchLog
from reconciler.watch.triggers import Trigger

# watchdog event types that mean a file's content may have changed (not opened/closed_no_write,
# which our own reads cause).
FILE_EVENT_TYPES = frozenset({"created", "modified", "deleted", "moved", "closed"})


class FileWatch:
    """watchdog observers on the spec's folder(s) and the build contexts. The handler only
    fires triggers; it never raises (an error is logged once). `check()` (called by the loop
    every second) applies a changed folder set and restarts a dead observer."""

    def __init__(self, fire: Callable[[Trigger], None], log: WatchLog) -> None:
        self._fire = fire
        self._log = log
        self._lock = threading.Lock()
        self._inputs: frozenset[str] = frozenset()
        self._contexts: dict[str, tuple[str, ...]] = {}  # folder -> Dockerfile names
        self._observer: Any = None
        self._scheduled: dict[str, bool] = {}
        self._errors_logged: set[str] = set()
        self._is_excluded: Callable[[str, str, str], bool] = is_excluded  # tests replace it
        self.restarts = 0

    def update(
        self, inputs: Iterable[Path], contexts: Mapping[Path, tuple[str, ...]] | Iterable[Path]
    ) -> None:
        if not isinstance(contexts, Mapping):
            contexts = {c: ("Dockerfile",) for c in contexts}
        with self._lock:
            self._inputs = frozenset(str(p) for p in inputs)
            self._contexts = {str(c): tuple(d) for c, d in contexts.items()}

    def wanted(self) -> dict[str, bool]:
        """Existing folders to watch -> recursive."""
        with self._lock:
            inputs, contexts = self._inputs, self._contexts
        out: dict[str, bool] = {c: True for c in contexts if os.path.isdir(c)}
        for p in sorted(inputs):
            folder = os.path.dirname(p)
            if os.path.isdir(folder) and not any(_under(folder, c) for c in out if out[c]):
                out.setdefault(folder, False)
        return out

    @property
    def alive(self) -> bool:
        obs = self._observer
        if obs is None:
            return False
        return obs.is_alive() and all(e.is_alive() for e in list(obs.emitters))

    def check(self) -> bool:
        """Make the observer match the wanted folders and be alive. Returns True when folders
        were added (they may hold changes nobody saw)."""
        wanted = self.wanted()
        if self._observer is not None and wanted == self._scheduled and self.alive:
            return False
        if self._observer is not None and not self.alive:
            self.restarts += 1
            self._log.warn("watcher", "the file watcher stopped; restarting it")
        added = bool(set(wanted) - set(self._scheduled)) and self._observer is not None
        self._restart(wanted)
        return added

    def _restart(self, wanted: dict[str, bool]) -> None:
        from watchdog.observers import Observer

        self.stop()
        observer = Observer(timeout=0.2)
        handler = _make_handler(self)
        scheduled: dict[str, bool] = {}
        for folder, recursive in sorted(wanted.items()):
            try:
                observer.schedule(handler, folder, recursive=recursive)
                scheduled[folder] = recursive
            except Exception as exc:  # a folder removed meanwhile, inotify limits, ...
                self._log_once(folder, f"cannot watch {folder}: {exc}")
        observer.daemon = True
        observer.start()
        self._observer, self._scheduled = observer, scheduled

    def stop(self) -> None:
        obs, self._observer = self._observer, None
        if obs is not None:
            with contextlib.suppress(Exception):
                obs.stop()
                obs.join(timeout=0.3)

    def _log_once(self, key: str, message: str) -> None:
        if key not in self._errors_logged:
            self._errors_logged.add(key)
            self._log.warn("watcher", message)

    def dispatch(self, event: Any) -> None:
        try:
            self._dispatch(event)
        except Exception as exc:  # never let an error kill watchdog's thread
            self._log_once(f"dispatch:{type(exc).__name__}", f"file watcher error: {exc}")

    def _dispatch(self, event: Any) -> None:
        if event.event_type not in FILE_EVENT_TYPES:
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)
        with self._lock:
            inputs, contexts = self._inputs, self._contexts
        for raw in paths:
            path = os.path.abspath(os.fsdecode(raw))
            if path in inputs:
                self._fire(Trigger("spec", f"{os.path.basename(path)} changed"))
                continue
            if event.is_directory and event.event_type in ("modified", "closed"):
                continue
            for context, dockerfiles in contexts.items():
                if not _under(path, context) or path == context:
                    continue
                rel = os.path.relpath(path, context).replace(os.sep, "/")
                if editor_temp(os.path.basename(path)):
                    continue  # written and gone again by the time the pass hashes the context
                if all(self._excluded(context, rel, d) for d in dockerfiles or ("Dockerfile",)):
                    continue
                self._fire(Trigger("context", f"{os.path.basename(context)}/{rel} changed"))

    def _excluded(self, context: str, rel: str, dockerfile: str = "Dockerfile") -> bool:
        """Is `rel` left out of builds of `context` (.dockerignore)? Decided by
        buildctx.dockerignore.is_excluded."""
        return bool(self._is_excluded(context, rel, dockerfile))


_TEMP_SUFFIXES = ("~", ".swp", ".swo", ".swx", "___jb_tmp___", "___jb_old___")


def editor_temp(name: str) -> bool:
    """An editor's transient file: vim's 4913 probe, swap and backup files, emacs's lock and
    auto-save files, JetBrains' safe-write files."""
    return (
        name == "4913"
        or name.endswith(_TEMP_SUFFIXES)
        or name.startswith(".#")
        or (name.startswith("#") and name.endswith("#"))
    )


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _make_handler(watch: FileWatch) -> Any:
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def dispatch(self, event: Any) -> None:
            watch.dispatch(event)

    return Handler()
