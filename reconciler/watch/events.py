"""Engine events: `EventFollower` follows the project's container events in a thread and fires
`event` triggers (and `reconnect` after a lost stream); `OwnContainers` tells it which events
our own pass caused. Both are owned by loop.Watcher; the engine object it reads from is
engine.Engine (or a fake in tests)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler.errors import EngineError, NotFound
from reconciler.model.labels import LABEL_KIND, LABEL_PROJECT
from reconciler.model.plan import Action, Plan
from reconciler.model.state import State
from reconciler.watch.backoff import Backoff
from reconciler.watch.log import WatchLog
from reconciler.watch.triggers import Trigger

# Engine event actions that mean "a container of ours may have changed state".
WATCHED_ACTIONS = ("die", "stop", "kill", "oom", "destroy", "health_status")
# Actions that our own pass causes when it stops, replaces or removes a container.
OWN_ACTIONS = frozenset({"die", "stop", "kill", "destroy"})
# Events after which the container list may lag (see settle_exits).
SETTLE_ACTIONS = frozenset({"die", "stop", "oom", "kill"})
SETTLE_MAX = 10  # containers settled per pass at most
SETTLE_REMOVING_S = 10.0  # wait at most this long for a removal under way (`docker rm -f`)
SETTLE_KILLED_S = 1.0  # ... and this long for a killed container to stop running


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


class OwnContainers:
    """Containers that our own pass stops, replaces or removes: their events are not drift.
    `mark_plan` while the pass runs (no expiry), `release` when it ends (their events may come
    a little later: kept RELEASE_S more), `__contains__` for EventFollower's `is_own`."""

    RELEASE_S = 5.0

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._own: dict[str, float] = {}  # container id -> expiry (inf while its pass runs)
        self._lock = threading.Lock()
        self._triggering: set[str] = set()  # containers whose events triggered this pass

    def triggered_by(self, triggers: Iterable[Trigger]) -> list[Trigger]:
        """Note the containers whose events start this pass (see mark_plan)."""
        found = list(triggers)
        self._triggering = {t.ref for t in found if t.kind == "event" and t.ref}
        return found

    def mark(self, container_id: str) -> None:
        with self._lock:
            self._own[container_id] = float("inf")

    def mark_plan(self, plan: Plan, state: State | None = None) -> None:
        """Mark the containers this plan stops, removes or replaces, and those whose events
        triggered the pass and that are gone already: their late `destroy` (`docker rm -f`
        sends kill, die, destroy) is this pass's business, not a new one's."""
        present = [oc.id for oc in state.containers] if state is not None else None
        for cid in self._triggering if present is not None else ():
            if not any(oid.startswith(cid) or cid.startswith(oid) for oid in present):
                self.mark(cid)
        for change in plan.changes:
            if change.target.kind == "container":
                own = change.action in (Action.STOP, Action.REMOVE, Action.REPLACE)
                if own and change.container_id:
                    self.mark(change.container_id)

    def forget(self, container_id: str) -> None:
        with self._lock:
            self._own.pop(container_id, None)

    def release(self) -> None:
        expiry = self._clock() + self.RELEASE_S  # events of this pass may arrive a little later
        with self._lock:
            for cid, exp in list(self._own.items()):
                if exp == float("inf"):
                    self._own[cid] = expiry

    def __contains__(self, container_id: object) -> bool:
        """A full id or a prefix of one (events may carry either)."""
        if not isinstance(container_id, str):
            return False
        now = self._clock()
        with self._lock:
            for cid in [c for c, exp in self._own.items() if exp < now]:
                del self._own[cid]
            return any(
                cid == container_id or cid.startswith(container_id) or container_id.startswith(cid)
                for cid in self._own
            )


def settle_exits(
    engine: Any, triggers: Iterable[Trigger], own: OwnContainers | None = None
) -> None:
    """dockerd logs `die` before it finishes handling the exit and updates the container
    list, so a list right after the event may still say "running". `inspect` waits for
    the container's lock, which the exit handler holds: one inspect per dead container
    makes the pass's observe see the exit. A killed container is given a moment to stop,
    and one being removed (`docker rm -f`: kill, die, destroy) to be gone, so that the pass
    sees the end state; its events until then are this pass's (`own`), and so are the later
    ones of a container that is gone. Called by loop.Watcher before each pass."""
    actions = {t.ref: t.action for t in triggers if t.action in SETTLE_ACTIONS and t.ref}
    for cid in list(actions)[:SETTLE_MAX]:
        if own is not None:
            own.mark(cid)
        gone = _settle(engine, cid, actions[cid] == "kill")
        if own is not None and not gone:
            own.forget(cid)


def _settle(engine: Any, cid: str, killed: bool) -> bool:
    """Inspect until the container is neither being removed nor (killed) still running;
    True when it is gone."""
    start = time.monotonic()
    while True:
        try:
            info = engine.inspect_container(cid)
        except NotFound:
            return True
        except EngineError:
            return False
        waited = time.monotonic() - start
        removing = info.get("status") == "removing" and waited < SETTLE_REMOVING_S
        dying = killed and info.get("running") and waited < SETTLE_KILLED_S
        if not (removing or dying):
            return False
        time.sleep(0.05)
