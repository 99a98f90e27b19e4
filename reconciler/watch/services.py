"""watch on a Swarm (target swarm): service events trigger passes, and a service whose update
Swarm keeps rolling back is held back with a growing delay instead of being updated in a loop.

`ServiceEvents` follows the engine's service events for the spec's service names (Swarm emits
no task events, and a service event carries no labels, so names are the filter). Swarm emits
`update` events by itself while an update progresses (`updatestate.*` attributes only): those
are not drift and fire nothing. A service removed or scaled by hand fires a pass, which
restores it; Swarm's own task restarts are left to Swarm (the plan compares the service's
config hash and replicas only). `UpdateHold` is the backoff, applied by `SwarmPolicy` (the
crash-loop policy plus it). `SwarmWatcher` is the Watcher with both; commands/watch.py runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from reconciler.execute.outcome import Outcome, Status
from reconciler.model.labels import config_hash
from reconciler.model.plan import Action, Kind, Plan, Reason
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.model.swarm import service_name
from reconciler.watch.crashloop import CrashBackoff, CrashLoopPolicy
from reconciler.watch.events import EventFollower
from reconciler.watch.log import WatchLog
from reconciler.watch.loop import Watcher
from reconciler.watch.metrics import Metrics
from reconciler.watch.triggers import Trigger

SERVICE_ACTIONS = ("create", "update", "remove")
SWARM_OWN = "updatestate."  # attributes of the update events Swarm emits by itself


class ServiceEvents(EventFollower):
    """Service events of the spec's services; reconnects like the container follower."""

    def __init__(
        self,
        engine: Any,
        spec: Spec,
        fire: Callable[[Trigger], None],
        log: WatchLog,
        initial: float = 0.25,
        maximum: float = 5.0,
    ) -> None:
        super().__init__(engine, spec.project, fire, log, initial=initial, maximum=maximum)
        self.names = sorted(service_name(spec.project, key) for key in spec.containers)

    def filters(self) -> dict[str, list[str]]:
        return {"type": ["service"], "service": self.names, "event": list(SERVICE_ACTIONS)}

    def handle(self, event: Mapping[str, Any]) -> None:
        self.received += 1
        action = str(event.get("Action") or "")
        attrs = (event.get("Actor") or {}).get("Attributes") or {}
        name = str(attrs.get("name") or "")
        if action not in SERVICE_ACTIONS or name not in self.names:
            return
        changed = [k for k in attrs if k.endswith((".new", ".old"))]
        if action == "update" and changed and all(k.startswith(SWARM_OWN) for k in changed):
            self.ignored += 1  # Swarm reporting its own update's progress
            return
        ref = str((event.get("Actor") or {}).get("ID") or "")
        self._fire(Trigger("event", f"service {action} {name}", f"service-{action}", ref))


class _Failed(Struct):
    """UpdateHold's record of a service update Swarm rolled back: its config, failures, retry."""

    config_hash: str
    failures: int
    retry_at: float


class UpdateHold:
    """Holds back the UPDATE of a service whose last update with the same config failed
    (Swarm rolled it back): retried after `initial` seconds, doubling up to `maximum`; a
    changed spec (another config hash) is tried at once."""

    def __init__(self, log: WatchLog, initial: float = 5.0, maximum: float = 300.0) -> None:
        self.log = log
        self.initial = initial
        self.maximum = maximum
        self.failed: dict[str, _Failed] = {}  # service key -> the failed config

    def adjust(self, plan: Plan, now: float) -> tuple[Plan, list[dict[str, Any]]]:
        changes = []
        held: list[dict[str, Any]] = []
        for change in plan.changes:
            record = self.failed.get(change.target.key)
            if (
                change.target.kind == Kind.SERVICE
                and change.action is Action.UPDATE
                and record is not None
                and record.config_hash == config_hash(change.after or {})
                and now < record.retry_at
            ):
                wait = record.retry_at - now
                held.append(
                    {
                        "address": change.address,
                        "name": change.target.name,
                        "start_in": round(wait, 3),
                    }
                )
                change = replace(
                    change,
                    action=Action.UNCHANGED,
                    reason=f"update rolled back {record.failures}x; retried in {wait:.0f} s",
                    cause=Reason.HELD,
                )
            changes.append(change)
        return replace(plan, changes=tuple(changes)), held

    def record(self, outcomes: Iterable[Outcome], now: float) -> None:
        for outcome in outcomes:
            change = outcome.change
            if change.target.kind != Kind.SERVICE or change.action is not Action.UPDATE:
                continue
            key = change.target.key
            if outcome.status is Status.FAILED:
                wanted = config_hash(change.after or {})
                previous = self.failed.get(key)
                failures = previous.failures + 1 if previous else 1
                delay = min(self.maximum, self.initial * 2 ** (failures - 1))
                self.failed[key] = _Failed(wanted, failures, now + delay)
                self.log.warn(
                    "backoff",
                    f"{change.target.name}: update failed {failures}x; not retried for "
                    f"{delay:g} s unless the spec changes",
                )
            elif outcome.status is Status.DONE:
                self.failed.pop(key, None)


class SwarmPolicy(CrashLoopPolicy):
    """The crash-loop policy, plus `UpdateHold` for services (target swarm)."""

    def __init__(self, backoff: CrashBackoff, log: WatchLog, metrics: Metrics) -> None:
        super().__init__(backoff, log, metrics)
        self.updates = UpdateHold(log)

    def adjust(self, plan: Plan, state: State, now: float) -> tuple[Plan, list[dict[str, Any]]]:
        plan, held = super().adjust(plan, state, now)
        plan, held_updates = self.updates.adjust(plan, now)
        return plan, held + held_updates

    def record(self, outcomes: Iterable[Outcome], plan: Plan, now: float) -> None:
        outcomes = list(outcomes)
        super().record(outcomes, plan, now)
        self.updates.record(outcomes, now)


class SwarmWatcher(Watcher):
    """`Watcher` that also follows service events when the spec's target is swarm; on the
    engine target it is the plain Watcher."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = SwarmPolicy(self.crash, self.log, self.metrics)
        self.service_events: ServiceEvents | None = None

    def start(self) -> None:
        super().start()
        spec = self.source.spec
        if spec is not None and spec.target == "swarm":
            self.service_events = ServiceEvents(
                self.engine,
                spec,
                self.triggers.fire,
                self.log,
                self.options.reconnect_initial,
                self.options.reconnect_max,
            )
            self.service_events.start()

    def close(self) -> None:
        if self.service_events is not None:
            self.service_events.stop()
        super().close()
