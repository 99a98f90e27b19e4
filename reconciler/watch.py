"""`reconciler watch`: a level-triggered control loop that keeps one project converged.

Like a controller-runtime Reconcile: triggers only say "look again"; every pass re-reads the
whole state (reconcile.run_pass: observe -> plan -> execute) against the spec in force.

    spec/.env/env_file edits (watchdog, 300 ms trailing debounce, content hash) --+
    build-context edits (watchdog, .dockerignore'd files skipped) ----------------+--> Triggers
    engine events for the project's containers (die, stop, kill, oom, ...) -------+    (coalesce)
    resync timer (30 s), pass retry timer, crash-loop backoff timer --------------+       |
                                                                       one pass at a time <+

Safety: an invalid, unreadable or deleted spec never changes anything; the last good spec
stays in force. A container that keeps dying is restarted with exponential backoff (its START
is held back in the plan, the planner stays pure); a failing pass is retried with backoff.
SIGINT/SIGTERM stop the loop and leave every container as it is.

The loop's state (passes, backoffs, last error) is written to `<lock dir>/<project>.watch.json`
after every pass; `reconciler status` shows it. See docs/watch.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.errors import EngineError, ReconcilerError, SpecError
from reconciler.plan import Action, Plan
from reconciler.spec import LABEL_KIND, LABEL_PROJECT, Spec

# Engine event actions that mean "a container of ours may have changed state".
WATCHED_ACTIONS = ("die", "stop", "kill", "oom", "destroy", "health_status")
# Actions that our own pass causes when it stops, replaces or removes a container.
OWN_ACTIONS = frozenset({"die", "stop", "kill", "destroy"})
# Trigger kinds that bypass a pass-failure backoff: the user changed something, or the
# engine came back.
URGENT_KINDS = frozenset({"start", "spec", "context", "reconnect"})
# watchdog event types that mean a file's content may have changed (not opened/closed_no_write,
# which our own reads cause).
FILE_EVENT_TYPES = frozenset({"created", "modified", "deleted", "moved", "closed"})
# Events after which the container list may lag (see Watcher._settle).
SETTLE_ACTIONS = frozenset({"die", "stop", "oom"})
SETTLE_MAX = 10  # inspects per pass at most
# Events that say someone else stopped or killed a container (docker stop/kill): its death is
# drift, restarted at once, not a crash loop. Remembered this long (a stop may take a while).
EXTERNAL_ACTIONS = frozenset({"kill", "stop"})
KILL_MEMORY_S = 120.0
STATE_SUFFIX = ".watch.json"
HEALTH_CHECK_S = 1.0  # how often the loop checks its watcher threads


@dataclass(frozen=True)
class WatchOptions:
    resync: float = 30.0  # seconds between backstop passes (0: none)
    debounce: float = 0.3  # trailing edge for file triggers
    event_debounce: float = 0.1  # trailing edge for engine events (rm -f = kill, die, destroy)
    prune: bool = True
    parallel: int = 8
    wait_timeout: float = 120.0
    backoff_initial: float = 1.0  # crash loops: first delay, doubling...
    backoff_max: float = 300.0  # ...up to this
    backoff_reset: float = 10.0  # a container up this long is no longer crash-looping
    retry_initial: float = 0.5  # failed passes: first retry delay, doubling...
    retry_max: float = 300.0  # ...up to this
    reconnect_initial: float = 0.25  # event stream reconnects: first delay, doubling...
    reconnect_max: float = 5.0  # ...up to this
    metrics_addr: tuple[str, int] | None = None
    state_file: bool = True


# --- triggers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """Why a pass runs. Only a hint: the pass re-reads everything."""

    kind: str  # start | spec | context | event | reconnect | resync | retry | backoff
    detail: str = ""
    action: str = field(default="", compare=False)  # event: die, stop, ...
    ref: str = field(default="", compare=False)  # event: the container id

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}".strip()


# kind -> (debounce attribute of Triggers, max wait): debounced kinds fire on the trailing edge,
# but never later than `max wait` after the first one (so a stream of events cannot starve us).
_DEBOUNCED = {"spec": ("file", 2.0), "context": ("file", 2.0), "event": ("event", 0.5)}


class Triggers:
    """Thread-safe collection of triggers. Producers call `fire`; the loop calls `wait`, which
    returns every trigger that is ready (debounced ones after their quiet period)."""

    def __init__(self, file_debounce: float = 0.3, event_debounce: float = 0.1, clock=None):
        self._cond = threading.Condition()
        self._clock = clock or time.monotonic
        self._quiet = {"file": file_debounce, "event": event_debounce}
        self._ready: list[Trigger] = []
        self._held: dict[str, list[Trigger]] = {"file": [], "event": []}
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._woken = False

    def fire(self, trigger: Trigger) -> None:
        with self._cond:
            group = _DEBOUNCED.get(trigger.kind, (None, 0))[0]
            if group is None:
                self._ready.append(trigger)
            else:
                now = self._clock()
                self._held[group].append(trigger)
                self._first.setdefault(group, now)
                self._last[group] = now
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def files_pending(self) -> bool:
        """True while a file edit is still settling (its debounce window is open)."""
        with self._cond:
            return bool(self._held["file"])

    def _due(self, group: str, now: float) -> float | None:
        if not self._held[group]:
            return None
        max_wait = max(w for g, w in _DEBOUNCED.values() if g == group)
        return min(self._last[group] + self._quiet[group], self._first[group] + max_wait)

    def _collect(self, now: float) -> list[Trigger]:
        out, self._ready = self._ready, []
        for group in self._held:
            due = self._due(group, now)
            if due is not None and now >= due:
                out.extend(self._held[group])
                self._held[group] = []
                self._first.pop(group, None)
        return out

    def wait(self, deadline: float) -> list[Trigger]:
        """Block until a trigger is ready, `wake()` is called or `deadline` (monotonic) passes;
        return the ready triggers (possibly none)."""
        with self._cond:
            while True:
                now = self._clock()
                out = self._collect(now)
                if out or self._woken or now >= deadline:
                    self._woken = False
                    return out
                until = deadline
                for group in self._held:
                    due = self._due(group, now)
                    if due is not None:
                        until = min(until, due)
                self._cond.wait(max(0.0, until - now))


def describe_triggers(triggers: Iterable[Trigger], limit: int = 3) -> str:
    seen: list[str] = []
    for t in triggers:
        text = str(t)
        if text not in seen:
            seen.append(text)
    more = f" (+{len(seen) - limit} more)" if len(seen) > limit else ""
    return ", ".join(seen[:limit]) + more


# --- backoff -------------------------------------------------------------------------------------


class Backoff:
    """Exponential delays: initial, 2x initial, ... up to maximum; reset() starts over."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        return min(self.initial * 2 ** (self.failures - 1), self.maximum)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class CrashRecord:
    address: str
    quick_exits: int = 0  # consecutive deaths within `reset` seconds of our start
    last_start: float | None = None  # monotonic time of our last successful start
    dead: bool = False  # its death is counted and it waits for a start
    next_start: float = 0.0
    delay: float = 0.0
    exit_code: int | None = None
    ran: float | None = None  # how long it ran before its last death (None: unknown)
    wake_pending: bool = False  # held back: the loop owes it a pass at next_start


class CrashBackoff:
    """Crash-loop backoff for containers that keep dying (like Kubernetes' CrashLoopBackOff
    and Docker's restart delay). A death after a run shorter than `reset` seconds is a quick
    exit; the n-th consecutive quick exit holds the next start back initial * 2^(n-1) seconds
    (1, 2, 4, ... up to `maximum`). A death after a longer run (or of a container we never
    started) is restarted at once. Pure bookkeeping over a clock; the watch loop calls it."""

    def __init__(self, initial: float = 1.0, maximum: float = 300.0, reset: float = 10.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.reset = reset
        self.records: dict[str, CrashRecord] = {}
        self.holds = 0  # how many times a start was held back (a metric)

    def wants_start(
        self,
        name: str,
        address: str,
        now: float,
        exit_code: int | None = None,
        external: bool = False,
    ) -> tuple[float, bool]:
        """The plan wants to start `name`, which is not running. Returns (seconds to hold it
        back, 0 = start now; whether this call counted a new death). `external`: it died
        because someone stopped or killed it (`docker stop/kill`): drift, not a crash."""
        rec = self.records.setdefault(name, CrashRecord(address))
        rec.address = address
        new_death = not rec.dead
        if new_death:
            rec.dead = True
            rec.exit_code = exit_code
            ran = rec.ran = None if rec.last_start is None else now - rec.last_start
            if ran is not None and ran < self.reset and not external:
                rec.quick_exits += 1
                rec.delay = min(self.initial * 2 ** (rec.quick_exits - 1), self.maximum)
            else:
                rec.quick_exits = 0
                rec.delay = 0.0
            rec.next_start = now + rec.delay
        wait = max(0.0, rec.next_start - now)
        if wait > 0:
            self.holds += 1
            rec.wake_pending = True
        return wait, new_death

    def started(self, name: str, address: str, now: float, fresh: bool = False) -> None:
        """We started (fresh: created or replaced) the container `name` at `now`."""
        rec = self.records.setdefault(name, CrashRecord(address))
        rec.last_start = now
        rec.dead = False
        if fresh:
            rec.quick_exits = 0
            rec.delay = 0.0

    def running(self, name: str, now: float) -> None:
        """Observed running: once up for `reset` seconds, its quick exits are forgotten."""
        rec = self.records.get(name)
        if rec is None:
            return
        rec.dead = False
        if rec.last_start is not None and now - rec.last_start >= self.reset:
            rec.quick_exits = 0
            rec.delay = 0.0

    def forget(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        for name in [n for n in self.records if n not in keep]:
            del self.records[name]

    def next_wakeup(self) -> float | None:
        """When the loop owes a held-back container a pass (None: it owes none)."""
        times = [r.next_start for r in self.records.values() if r.wake_pending]
        return min(times) if times else None

    def take_due(self, now: float) -> list[str]:
        """Held-back containers whose start time has come (each returned once per hold)."""
        due = sorted(n for n, r in self.records.items() if r.wake_pending and r.next_start <= now)
        for name in due:
            self.records[name].wake_pending = False
        return due

    def held(self, now: float) -> dict[str, CrashRecord]:
        """Containers whose next start is held back right now."""
        return {n: r for n, r in self.records.items() if r.dead and r.next_start > now}

    def in_backoff(self) -> dict[str, CrashRecord]:
        """Containers with quick exits not yet forgiven (held back now, or restarted after a
        hold and not yet up for `reset` seconds)."""
        return {n: r for n, r in self.records.items() if r.quick_exits > 0}


# --- the spec and the files it reads -------------------------------------------------------------


class SpecSource:
    """The spec file, the `.env` beside it and its env files: loads them and says whether
    their content changed (sha256 over every input). Keeps the last good Spec."""

    def __init__(
        self,
        path: str | Path,
        environ: Mapping[str, str] | None = None,
        project: str | None = None,
    ) -> None:
        self.display = str(path)
        self.path = Path(os.path.abspath(os.path.expanduser(path)))
        self.environ = os.environ if environ is None else environ
        self.project_override = project
        self.spec: Spec | None = None
        self.generation = 0  # bumped whenever the spec in force changes
        self.digest: str | None = None  # of the inputs last read (good or bad)
        self.env_files: tuple[Path, ...] = ()
        self.error: str | None = None  # why the file on disk is not in force (None: it is)

    def inputs(self) -> tuple[Path, ...]:
        return (self.path, self.path.parent / ".env", *self.env_files)

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
            text = self.path.read_bytes()
        except OSError:
            return None, self.env_files
        env_files = _env_files(text, self.path, self.display) or self.env_files
        h = hashlib.sha256()
        for p in (self.path, self.path.parent / ".env", *env_files):
            h.update(str(p).encode() + b"\0")
            try:
                h.update(text if p == self.path else p.read_bytes())
            except OSError:
                h.update(b"\0missing")
            h.update(b"\0")
        return h.hexdigest(), env_files

    def load_initial(self) -> Spec:
        """The first load: errors raise SpecError (watch does not start on a bad spec)."""
        from reconciler.loader import load_spec

        digest, self.env_files = self._read_inputs()
        spec = load_spec(self.display, self.environ, self.project_override)
        self.spec, self.digest, self.generation = spec, digest, 1
        return spec

    def refresh(self) -> tuple[str, SpecError | None]:
        """Re-read the inputs. Returns (outcome, error):
        `same` (content unchanged), `changed` (a new good spec is in force), `unchanged`
        (content changed, spec equal), `invalid` (error; last good kept), `missing` (spec file
        gone or unreadable; last good kept)."""
        from reconciler.loader import load_spec

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
            spec = load_spec(self.display, self.environ, self.project_override)
        except SpecError as exc:
            self.error = f"{len(exc.problems)} problem(s) in {self.display}"
            return "invalid", exc
        if self.spec is not None and spec.project != self.spec.project:
            from reconciler.errors import Problem

            exc = SpecError(
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
            return "invalid", exc
        self.error = None
        if spec == self.spec:
            return "unchanged", None
        self.spec = spec
        self.generation += 1
        return "changed", None


def _env_files(text: bytes, path: Path, display: str) -> tuple[Path, ...] | None:
    """The env files a spec names (containers.*.env_file), resolved beside the spec. None when
    the file does not parse. Names with ${VAR} are skipped (their folder is the spec's anyway,
    mostly); resync catches the rest."""
    from reconciler.normalize import resolve_host_path
    from reconciler.source import parse_document

    try:
        doc = parse_document(text.decode("utf-8"), path, display)
    except (SpecError, UnicodeDecodeError, ValueError):
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


# --- file watching -------------------------------------------------------------------------------


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
        self._is_excluded: Callable[..., bool] | None = None
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
                if all(self._excluded(context, rel, d) for d in dockerfiles or ("Dockerfile",)):
                    continue
                self._fire(Trigger("context", f"{os.path.basename(context)}/{rel} changed"))

    def _excluded(self, context: str, rel: str, dockerfile: str = "Dockerfile") -> bool:
        """Is `rel` left out of builds of `context` (.dockerignore)? Decided by
        buildcontext.is_excluded, imported on first use."""
        if self._is_excluded is None:
            try:
                from reconciler.buildcontext import is_excluded
            except ImportError:  # build support not installed: every file counts

                def is_excluded(context: str, relpath: str, dockerfile: str = "") -> bool:
                    return False

            self._is_excluded = is_excluded
        return bool(self._is_excluded(context, rel, dockerfile))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _make_handler(watch: FileWatch) -> Any:
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def dispatch(self, event: Any) -> None:
            watch.dispatch(event)

    return Handler()


# --- engine events -------------------------------------------------------------------------------


class EventFollower:
    """Follows the engine's container events for one project in a thread. Each interesting
    event fires a trigger; a lost stream (daemon restart) is reconnected with backoff and the
    reconnection fires a `reconnect` trigger (a full pass follows). Events that our own pass
    caused (stopping/removing containers it replaces) are ignored via `is_own`."""

    def __init__(
        self,
        engine: Any,
        project: str,
        fire: Callable[[Trigger], None],
        log: WatchLog,
        is_own: Callable[[str], bool] = lambda cid: False,
        initial: float = 0.25,
        maximum: float = 5.0,
    ) -> None:
        self.engine = engine
        self.project = project
        self._fire = fire
        self._log = log
        self._is_own = is_own
        self._backoff = Backoff(initial, maximum)
        self._stop = threading.Event()
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self.connected = False
        self.reconnects = 0
        self.ignored = 0
        self.received = 0

    def filters(self) -> dict[str, list[str]]:
        return {
            "label": [f"{LABEL_PROJECT}={self.project}"],
            "type": ["container"],
            "event": list(WATCHED_ACTIONS),
        }

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="engine-events", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        if self._thread is not None:
            self._thread.join(timeout=0.3)

    def run(self) -> None:
        lost = False
        while not self._stop.is_set():
            try:
                stream = self.engine.events(filters=self.filters())
            except EngineError as exc:
                self.connected = False
                delay = self._backoff.next_delay()
                if not lost:
                    self._log.warn("engine", f"engine events unavailable: {exc}")
                    lost = True
                self._log.debug("engine", f"reconnecting to the engine in {delay:g} s")
                self._stop.wait(delay)
                continue
            self._stream = stream
            self.connected = True
            opened = time.monotonic()
            if lost:
                self.reconnects += 1
                self._log.info("engine", "reconnected to the engine's event stream", reconnect=True)
                self._fire(Trigger("reconnect", "engine reconnected"))
                lost = False
            cause = "the engine closed the event stream"
            try:
                for event in stream:
                    if self._stop.is_set():
                        break
                    self.handle(event)
            except EngineError as exc:
                cause = str(exc)
            except Exception as exc:  # an unexpected SDK error: reconnect, never die
                cause = f"unexpected {type(exc).__name__}: {exc}"
            finally:
                self._stream = None
                with contextlib.suppress(Exception):
                    stream.close()
            self.connected = False
            if self._stop.is_set():
                break
            if time.monotonic() - opened > 2.0:
                self._backoff.reset()
            lost = True
            delay = self._backoff.next_delay()
            self._log.warn("engine", f"lost the engine's event stream ({cause}); reconnecting")
            self._stop.wait(delay)

    def handle(self, event: Mapping[str, Any]) -> None:
        self.received += 1
        action = str(event.get("Action") or event.get("status") or "")
        base = action.split(":", 1)[0].strip()
        if base not in WATCHED_ACTIONS:
            return
        actor = event.get("Actor") or {}
        attrs = actor.get("Attributes") or {}
        if attrs.get(LABEL_PROJECT, self.project) != self.project:
            return
        if attrs.get(LABEL_KIND, "container") != "container":
            return  # a build's intermediate container (it carries the image's labels)
        cid = str(event.get("id") or actor.get("ID") or "")
        if base in OWN_ACTIONS and cid and self._is_own(cid):
            self.ignored += 1
            return
        name = attrs.get("name") or cid[:12]
        self._fire(Trigger("event", f"{action} {name}", base, cid))


# --- output --------------------------------------------------------------------------------------


class WatchLog:
    """One line per message: `HH:MM:SS text` (warnings and errors on stderr), or JSON lines
    on stdout with --output json: {"time", "event", "level", "message", ...fields}."""

    def __init__(self, json_lines: bool = False, color: bool = False, stdout=None, stderr=None):
        import sys

        self.json = json_lines
        self.color = color
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.verbose = False
        self._lock = threading.Lock()

    def emit(self, level: str, event: str, message: str, **fields: Any) -> None:
        with self._lock:
            try:
                if self.json:
                    record = {
                        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "event": event,
                        "level": level,
                        "message": message,
                        **fields,
                    }
                    self.stdout.write(json.dumps(record, default=str) + "\n")
                    self.stdout.flush()
                    return
                stream = self.stderr if level in ("warning", "error") else self.stdout
                prefix = time.strftime("%H:%M:%S")
                text = message
                if level in ("warning", "error") and self.color:
                    text = f"\x1b[{'33' if level == 'warning' else '31'}m{text}\x1b[0m"
                stream.write(f"{prefix} {text}\n")
                stream.flush()
            except (BrokenPipeError, ValueError):  # closed output: keep the loop alive
                pass

    def info(self, event: str, message: str, **fields: Any) -> None:
        self.emit("info", event, message, **fields)

    def warn(self, event: str, message: str, **fields: Any) -> None:
        self.emit("warning", event, message, **fields)

    def error(self, event: str, message: str, **fields: Any) -> None:
        self.emit("error", event, message, **fields)

    def debug(self, event: str, message: str, **fields: Any) -> None:
        if self.verbose:
            self.emit("debug", event, message, **fields)


# --- metrics -------------------------------------------------------------------------------------


@dataclass
class Metrics:
    passes: int = 0
    failures: int = 0
    changes: int = 0
    drift_repairs: int = 0
    spec_errors: int = 0
    backoffs: int = 0  # containers that entered a crash-loop hold
    held_now: int = 0  # containers held back right now
    last_duration: float = 0.0
    last_pass_time: float = 0.0
    reconnects: int = 0
    watcher_restarts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def render(self, project: str, up: bool) -> str:
        lab = '{project="' + project.replace("\\", "\\\\").replace('"', '\\"') + '"}'
        with self.lock:
            rows = [
                ("up", "gauge", "1 while the watch loop runs", 1 if up else 0),
                ("passes_total", "counter", "reconcile passes run", self.passes),
                ("pass_failures_total", "counter", "passes that failed", self.failures),
                ("changes_total", "counter", "changes made by passes", self.changes),
                (
                    "drift_repairs_total",
                    "counter",
                    "changes made while the spec stayed the same (drift repaired)",
                    self.drift_repairs,
                ),
                (
                    "spec_errors_total",
                    "counter",
                    "spec edits rejected as invalid",
                    self.spec_errors,
                ),
                (
                    "backoffs_total",
                    "counter",
                    "container starts held back by crash-loop backoff",
                    self.backoffs,
                ),
                ("backoff_containers", "gauge", "containers held back now", self.held_now),
                (
                    "last_pass_duration_seconds",
                    "gauge",
                    "duration of the last pass",
                    round(self.last_duration, 6),
                ),
                (
                    "last_pass_timestamp_seconds",
                    "gauge",
                    "when the last pass ended (unix time)",
                    round(self.last_pass_time, 3),
                ),
                ("engine_reconnects_total", "counter", "event stream reconnects", self.reconnects),
                (
                    "watcher_restarts_total",
                    "counter",
                    "file watcher restarts after it died",
                    self.watcher_restarts,
                ),
            ]
        out: list[str] = []
        for name, kind, help_text, value in rows:
            full = f"reconciler_watch_{name}"
            out += [f"# HELP {full} {help_text}", f"# TYPE {full} {kind}", f"{full}{lab} {value}"]
        return "\n".join(out) + "\n"


class MetricsServer:
    """`/healthz` and `/metrics` (Prometheus text format) on a loopback address, served by
    http.server in a daemon thread."""

    def __init__(self, addr: tuple[str, int], watcher: Watcher) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    ok, text = watcher.health()
                    self._send(200 if ok else 503, text + "\n", "text/plain; charset=utf-8")
                elif path == "/metrics":
                    body = watcher.metrics.render(watcher.project, watcher.loop_alive)
                    self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
                else:
                    self._send(404, "not found: try /healthz or /metrics\n", "text/plain")

            def _send(self, code: int, body: str, ctype: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        try:
            self.httpd = Server(addr, Handler)
        except OSError as exc:
            raise ReconcilerError(
                f"cannot serve metrics on {addr[0]}:{addr[1]}: {exc.strerror or exc}"
            ) from exc
        self.address = self.httpd.server_address
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.httpd.shutdown()
            self.httpd.server_close()


def parse_addr(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[v6]:PORT`) -> (host, port); ValueError with a message otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:9102, not {text!r}")
    return host, int(port)


# --- the state file that `status` reads ----------------------------------------------------------


def state_path(project: str) -> Path:
    from reconciler.lock import lock_dir

    return lock_dir() / f"{project}{STATE_SUFFIX}"


def read_state(project: str) -> dict[str, Any] | None:
    """The running watch's state for `project`, or None (no watch, or its process is gone)."""
    path = state_path(project)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = data.get("pid") if isinstance(data, dict) else None
    if not isinstance(pid, int) or not _pid_alive(pid):
        return None
    return data


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- the loop ------------------------------------------------------------------------------------


@dataclass
class PassReport:
    number: int
    triggers: tuple[Trigger, ...]
    seconds: float = 0.0
    done: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    retry_in: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


class Watcher:
    """The watch loop for one spec. `start()` loads the spec and starts the watchers (errors
    raise: bad spec, metrics address in use); `run()` runs passes until `stop()`; `close()`
    stops the watchers. `run()` is meant for its own thread; `stop()` may be called from a
    signal handler."""

    def __init__(
        self,
        spec_path: str | Path,
        engine: Any,
        options: WatchOptions = WatchOptions(),
        log: WatchLog | None = None,
        environ: Mapping[str, str] | None = None,
        project: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.options = options
        self.log = log or WatchLog()
        self.clock = clock
        self.source = SpecSource(spec_path, environ, project)
        self.triggers = Triggers(options.debounce, options.event_debounce)
        self.crash = CrashBackoff(
            options.backoff_initial, options.backoff_max, options.backoff_reset
        )
        self.retry = Backoff(options.retry_initial, options.retry_max)
        self.metrics = Metrics()
        self.files = FileWatch(self.triggers.fire, self.log)
        self.events: EventFollower | None = None
        self.server: MetricsServer | None = None
        self._stop = threading.Event()
        self._cancel = threading.Event()  # ends the executor's waits: replacements roll back
        self._own: dict[str, float] = {}  # container id -> expiry (inf while its pass runs)
        self._killed: dict[str, float] = {}  # container id -> when someone else killed/stopped it
        self._own_lock = threading.Lock()
        self._passes = 0
        self._pass_generation = 0
        self._retry_at: float | None = None
        self._loop_thread: threading.Thread | None = None
        self._last: PassReport | None = None
        self._started_wall = time.time()
        self.stop_reason = ""
        self.crashed: str | None = None
        self._closed = False

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def project(self) -> str:
        return self.source.spec.project if self.source.spec else ""

    @property
    def spec(self) -> Spec:
        assert self.source.spec is not None
        return self.source.spec

    @property
    def loop_alive(self) -> bool:
        t = self._loop_thread
        return t is not None and t.is_alive() and not self._stop.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        spec = self.source.load_initial()
        if self.options.metrics_addr:
            self.server = MetricsServer(self.options.metrics_addr, self)
        self.files.update(self.source.inputs(), self.source.contexts())
        self.files.check()
        self.events = EventFollower(
            self.engine,
            spec.project,
            self.triggers.fire,
            self.log,
            self._is_own,
            self.options.reconnect_initial,
            self.options.reconnect_max,
        )
        self.events.start()
        contexts = self.source.contexts()
        extra = f", {len(contexts)} build context(s)" if contexts else ""
        resync = f"resync every {self.options.resync:g} s" if self.options.resync else "no resync"
        metrics = (
            f"; metrics on http://{self.server.address[0]}:{self.server.address[1]}/metrics"
            if self.server
            else ""
        )
        self.log.info(
            "watch",
            f"watching {self.source.display} (project {spec.project}{extra}); {resync}{metrics}",
            project=spec.project,
            spec=str(self.source.path),
            contexts=[str(c) for c in contexts],
            pid=os.getpid(),
        )

    def stop(self, reason: str = "") -> None:
        """End the loop; a pass under way ends its waits (a replacement restores the old
        container) and starts nothing new."""
        self.stop_reason = reason
        self._stop.set()
        self._cancel.set()
        self.triggers.wake()

    def close(self) -> None:
        """Stop watching (idempotent); the state file goes. Containers are left as they are."""
        self._stop.set()
        self._closed = True
        self.files.stop()
        if self.events is not None:
            self.events.stop()
        if self.server is not None:
            self.server.close()
        if self.options.state_file and self.source.spec is not None:
            with contextlib.suppress(OSError):
                state_path(self.project).unlink()

    def run_in_thread(self) -> threading.Thread:
        self._loop_thread = threading.Thread(target=self.run, name="reconcile-loop", daemon=True)
        self._loop_thread.start()
        return self._loop_thread

    def health(self) -> tuple[bool, str]:
        if not self.loop_alive and self._loop_thread is not None:
            return False, "watch loop stopped"
        events = self.events
        if events is not None and not events.connected:
            return False, "engine event stream disconnected (reconnecting)"
        last = self._last
        if last is not None and not last.ok:
            return True, f"ok (last pass failed: {last.error or 'changes failed'}; retrying)"
        return True, "ok"

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        """The loop, until stop(). An unexpected error ends it with `crashed` set (logged)."""
        try:
            self._loop()
        except Exception as exc:  # a bug: say so plainly; the command exits 1
            self.crashed = f"{type(exc).__name__}: {exc}"
            self.log.error("crash", f"internal error, the watch loop ended: {self.crashed}")

    def _loop(self) -> None:
        batch: list[Trigger] = [Trigger("start", "initial pass")]
        next_resync = self._resync_from(self.clock())
        next_check = self.clock() + HEALTH_CHECK_S
        while not self._stop.is_set():
            now = self.clock()
            if now >= next_check:
                self._check_watchers()
                next_check = now + HEALTH_CHECK_S
            if self._retry_at is not None and now >= self._retry_at:
                batch.append(Trigger("retry", "after a failed pass"))
                self._retry_at = None
            due = self.crash.take_due(now)
            if due:
                batch.append(Trigger("backoff", "start " + ", ".join(due)))
            if next_resync is not None and now >= next_resync:
                if not batch:
                    batch.append(Trigger("resync"))
                next_resync = self._resync_from(now)
            deferred = self._retry_at is not None and not any(t.kind in URGENT_KINDS for t in batch)
            if batch and not deferred:
                self.reconcile(batch)
                batch = []
                next_resync = self._resync_from(self.clock())
                continue
            deadline = min(
                t
                for t in (
                    next_check,
                    next_resync,
                    self._retry_at,
                    self.crash.next_wakeup(),
                )
                if t is not None
            )
            batch.extend(self.triggers.wait(deadline))

    def _resync_from(self, now: float) -> float | None:
        return now + self.options.resync if self.options.resync > 0 else None

    def _check_watchers(self) -> None:
        try:
            before = self.files.restarts
            if self.files.check():
                self.triggers.fire(Trigger("spec", "a watched folder appeared"))
            if self.files.restarts != before:
                with self.metrics.lock:
                    self.metrics.watcher_restarts = self.files.restarts
            if self.events is not None and not self.events.alive and not self._stop.is_set():
                self.log.warn("engine", "the engine event follower stopped; restarting it")
                self.events.start()
        except Exception as exc:  # never let housekeeping kill the loop
            self.log.error("watcher", f"watcher check failed: {exc}")

    # --- one pass ----------------------------------------------------------------------------

    def _refresh_spec(self, batch: list[Trigger]) -> str:
        if self.triggers.files_pending():
            return "pending"  # an edit is still settling: its own trigger follows
        outcome, error = self.source.refresh()
        if outcome == "invalid" and error is not None:
            with self.metrics.lock:
                self.metrics.spec_errors += 1
            problems = [p.to_json() for p in error.problems]
            lines = [p.render() for p in error.problems]
            self.log.error(
                "spec-error",
                "invalid spec; keeping the last good spec (nothing was changed):\n  "
                + "\n  ".join(lines),
                problems=problems,
            )
        elif outcome == "missing":
            self.log.warn(
                "spec-missing",
                f"{self.source.display} was deleted or cannot be read; keeping the last good "
                "spec (nothing is removed)",
            )
        elif outcome == "changed":
            self.log.info(
                "spec", f"spec reloaded ({self.source.display})", generation=self.source.generation
            )
        if outcome in ("changed", "unchanged", "invalid"):
            self.files.update(self.source.inputs(), self.source.contexts())
        return outcome

    def reconcile(self, batch: list[Trigger]) -> None:
        """One pass for these triggers (the loop calls it; tests may too): re-read the spec's
        files; when the triggers were only file edits that changed no spec, nothing else."""
        outcome = self._refresh_spec(batch)
        only_files = all(t.kind == "spec" for t in batch)
        if only_files and outcome in ("same", "unchanged", "invalid", "missing", "pending"):
            self._write_state()
            return  # nothing new to apply
        self._passes += 1
        report = PassReport(self._passes, tuple(batch))
        generation = self.source.generation
        started = self.clock()
        try:
            self._execute(report)
        except Exception as exc:  # a bug must not end the watch: report it, retry
            report.error = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            self._release_own()
        report.seconds = self.clock() - started
        if report.ok:
            self.retry.reset()
            self._retry_at = None
        else:
            report.retry_in = self.retry.next_delay()
            self._retry_at = self.clock() + report.retry_in
        drift = self._passes > 1 and generation == self._pass_generation
        self._pass_generation = generation
        now = self.clock()
        with self.metrics.lock:
            m = self.metrics
            m.passes += 1
            m.failures += 0 if report.ok else 1
            m.changes += len(report.done)
            m.drift_repairs += len(report.done) if drift else 0
            m.last_duration = report.seconds
            m.last_pass_time = time.time()
            m.held_now = len(self.crash.held(now))
            m.reconnects = self.events.reconnects if self.events else 0
        self._last = report
        self._print(report)
        self._write_state()

    def _note_kills(self, triggers: Iterable[Trigger]) -> None:
        """Remember containers that someone stopped or killed (their `kill`/`stop` events;
        our own pass's are ignored upstream): their death is drift, not a crash loop."""
        now = self.clock()
        for t in triggers:
            if t.action in EXTERNAL_ACTIONS and t.ref:
                self._killed[t.ref] = now
        for cid in [c for c, at in self._killed.items() if now - at > KILL_MEMORY_S]:
            del self._killed[cid]

    def _execute(self, report: PassReport) -> None:
        from reconciler.errors import PlanError
        from reconciler.executor import ExecOptions
        from reconciler.planner import PlanOptions
        from reconciler.reconcile import run_pass

        spec = self.spec
        self._note_kills(report.triggers)
        self._settle(report.triggers)
        try:
            result = run_pass(
                spec,
                self.engine,
                PlanOptions(prune=self.options.prune),
                ExecOptions(
                    parallel=max(1, self.options.parallel),
                    wait_timeout=self.options.wait_timeout,
                    cancel=self._cancel,
                ),
                adjust=lambda plan, state: self._adjust(plan, state, report),
            )
        except PlanError as exc:
            report.error = "cannot plan: " + "; ".join(p.render() for p in exc.problems)
            report.problems = [p.to_json() for p in exc.problems]
            return
        except ReconcilerError as exc:
            report.error = str(exc)
            return
        now = self.clock()
        for o in result.outcomes:
            change = o.change
            if change.target.kind == "container":
                if o.status == "done" and change.action is Action.START:
                    self.crash.started(change.target.name, change.address, now)
                elif (
                    o.status == "done"
                    and change.action in (Action.CREATE, Action.REPLACE)
                    and change.extra.get("start", True)
                ):
                    self.crash.started(change.target.name, change.address, now, fresh=True)
            entry = {
                "address": o.address,
                "name": change.target.name,
                "action": str(change.action),
                "message": o.message,
                "seconds": round(o.seconds, 3),  # the engine's work on this change
            }
            if o.status == "done":
                report.done.append(entry)
            elif o.status in ("failed", "skipped"):
                report.failed.append({**entry, "status": o.status})
        report.warnings.extend(result.plan.warnings)
        for change in result.plan.actionable:
            report.warnings.extend(change.warnings)
        self.crash.forget(
            c.target.name
            for c in result.plan.changes
            if c.target.kind == "container" and c.action is not Action.REMOVE
        )

    def _settle(self, triggers: Iterable[Trigger]) -> None:
        """dockerd logs `die` before it finishes handling the exit and updates the container
        list, so a list right after the event may still say "running". `inspect` waits for
        the container's lock, which the exit handler holds: one inspect per dead container
        makes the pass's observe see the exit."""
        ids = list(dict.fromkeys(t.ref for t in triggers if t.action in SETTLE_ACTIONS and t.ref))
        for cid in ids[:SETTLE_MAX]:
            with contextlib.suppress(EngineError):
                self.engine.inspect_container(cid)

    def _adjust(self, plan: Plan, state: Any, report: PassReport) -> Plan:
        """Hold back STARTs of crash-looping containers (and of containers being removed:
        their destroy event triggers the pass that recreates them); remember the containers
        this pass stops or removes so that their events are not taken for drift."""
        now = self.clock()
        observed = {c.id: c for c in state.containers}
        changes = []
        for change in plan.changes:
            if change.target.kind == "container":
                oc = observed.get(change.container_id or "")
                if change.action is Action.UNCHANGED and oc is not None and oc.running:
                    self.crash.running(change.target.name, now)
                if change.action is Action.START and not change.extra.get("restore"):
                    if oc is not None and oc.status == "removing":
                        change = replace(
                            change, action=Action.UNCHANGED, reason="being removed; recreated next"
                        )
                    else:
                        change = self._hold_crash_loop(change, oc, now, report)
                own = change.action in (Action.STOP, Action.REMOVE, Action.REPLACE)
                if own and change.container_id:
                    with self._own_lock:
                        self._own[change.container_id] = float("inf")
            changes.append(change)
        return replace(plan, changes=tuple(changes))

    def _hold_crash_loop(self, change, oc, now: float, report: PassReport):
        name = change.target.name
        exit_code = oc.exit_code if oc is not None else None
        external = oc is not None and oc.id in self._killed
        wait, new_death = self.crash.wants_start(name, change.address, now, exit_code, external)
        rec = self.crash.records[name]
        if new_death and rec.quick_exits:
            with self.metrics.lock:
                self.metrics.backoffs += 1
            code = f" (code {exit_code})" if exit_code is not None else ""
            self.log.warn(
                "backoff",
                f"crash-loop backoff: {change.address} ({name}) exited{code} "
                f"{rec.ran or 0:.1f} s after its start, quick exit {rec.quick_exits} in a row; "
                f"next start in {rec.delay:g} s",
                address=change.address,
                name=name,
                quick_exits=rec.quick_exits,
                delay=rec.delay,
                exit_code=exit_code,
            )
        if wait <= 0:
            return change
        report.held.append({"address": change.address, "name": name, "start_in": round(wait, 3)})
        return replace(
            change,
            action=Action.UNCHANGED,
            reason=f"crash-loop backoff: next start in {wait:.1f} s",
        )

    def _is_own(self, container_id: str) -> bool:
        now = self.clock()
        with self._own_lock:
            for cid in [c for c, exp in self._own.items() if exp < now]:
                del self._own[cid]
            return any(
                cid == container_id or cid.startswith(container_id) or container_id.startswith(cid)
                for cid in self._own
            )

    def _release_own(self) -> None:
        expiry = self.clock() + 5.0  # events of this pass may arrive a little later
        with self._own_lock:
            for cid, exp in list(self._own.items()):
                if exp == float("inf"):
                    self._own[cid] = expiry

    # --- output ------------------------------------------------------------------------------

    def _print(self, r: PassReport) -> None:
        trigger = describe_triggers(r.triggers)
        if r.error:
            what = f"failed: {r.error.rstrip('.')}"
        elif r.failed:
            what = f"{len(r.failed)} change(s) failed, {len(r.done)} made"
        elif r.done:
            listed = ", ".join(f"{d['action']} {d['address']}" for d in r.done[:5])
            more = f" (+{len(r.done) - 5} more)" if len(r.done) > 5 else ""
            what = f"{len(r.done)} change(s): {listed}{more}"
        else:
            what = "no changes"
        if r.held:
            what += "; held back: " + ", ".join(
                f"{h['address']} (start in {h['start_in']:.1f} s)" for h in r.held
            )
        retry = f"; retrying in {r.retry_in:g} s" if r.retry_in is not None else ""
        line = f"pass {r.number} ({r.seconds:.2f} s) [{trigger}]: {what}{retry}"
        fields = {
            "pass": r.number,
            "trigger": [str(t) for t in r.triggers],
            "changes": r.done,
            "failed": r.failed,
            "held_back": r.held,
            "seconds": round(r.seconds, 4),
            "ok": r.ok,
            "error": r.error,
            "retry_in": r.retry_in,
        }
        if r.problems:
            fields["problems"] = r.problems
        if r.ok:
            self.log.info("pass", line, **fields)
        else:
            self.log.error("pass", line, **fields)
        if not self.log.json:
            for f in r.failed:
                self.log.error(
                    "change", f"  {f['status']}: {f['address']} ({f['name']}): {f['message']}"
                )
            for w in dict.fromkeys(r.warnings):
                self.log.warn("warning", f"  warning: {w}")

    def _write_state(self) -> None:
        if not self.options.state_file or self.source.spec is None or self._closed:
            return
        now_mono, now = self.clock(), time.time()
        last = self._last
        data = {
            "pid": os.getpid(),
            "project": self.project,
            "spec": str(self.source.path),
            "started": self._started_wall,
            "updated": now,
            "passes": self._passes,
            "spec_error": self.source.error,
            "retry_at": (now + self._retry_at - now_mono) if self._retry_at else None,
            "last_pass": None
            if last is None
            else {
                "number": last.number,
                "trigger": describe_triggers(last.triggers),
                "changes": len(last.done),
                "failed": len(last.failed),
                "error": last.error,
                "seconds": round(last.seconds, 4),
                "ended": now,
            },
            "backoff": {
                name: {
                    "address": rec.address,
                    "quick_exits": rec.quick_exits,
                    "delay": rec.delay,
                    "exit_code": rec.exit_code,
                    "next_start": (now + rec.next_start - now_mono)
                    if rec.dead and rec.next_start > now_mono
                    else None,
                }
                for name, rec in sorted(self.crash.in_backoff().items())
            },
        }
        path = state_path(self.project)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(data, indent=1))
            os.replace(tmp, path)
        except OSError as exc:
            self.log.debug("state", f"cannot write {path}: {exc}")


def annotate_rows(table: list[dict[str, Any]], state: Mapping[str, Any] | None) -> None:
    """Add the watch's crash-loop backoff to `status` rows (`backoff` key; and to `pending`)."""
    backoff = (state or {}).get("backoff") or {}
    now = time.time()
    for row in table:
        entry = backoff.get(row.get("container"))
        row["backoff"] = entry
        if entry and entry.get("next_start") and row.get("pending"):
            wait = max(0.0, entry["next_start"] - now)
            row["pending"] += f"; crash-loop backoff: next start in {wait:.0f} s"


def state_lines(state: Mapping[str, Any] | None) -> list[str]:
    """What `status` prints about a running watch of the project."""
    if not state:
        return []
    now = time.time()
    lines = [f"Watched by pid {state.get('pid')} ({state.get('passes', 0)} passes)."]
    last = state.get("last_pass")
    if last:
        ago = max(0.0, now - (last.get("ended") or now))
        result = (
            f"failed: {last['error']}"
            if last.get("error")
            else f"{last.get('failed')} change(s) failed"
            if last.get("failed")
            else f"{last.get('changes', 0)} change(s)"
        )
        lines.append(f"  last pass {ago:.0f} s ago [{last.get('trigger')}]: {result}")
    if state.get("retry_at"):
        lines.append(f"  retrying the pass in {max(0.0, state['retry_at'] - now):.0f} s")
    if state.get("spec_error"):
        lines.append(f"  the spec on disk is not in force: {state['spec_error']}")
    for name, entry in sorted((state.get("backoff") or {}).items()):
        when = entry.get("next_start")
        wait = f"next start in {max(0.0, when - now):.0f} s" if when else "restarted, on probation"
        lines.append(
            f"  crash-loop backoff: {name} ({entry.get('address')}): "
            f"{entry.get('quick_exits')} quick exit(s), delay {entry.get('delay'):g} s, {wait}"
        )
    return lines
