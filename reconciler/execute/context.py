"""What a handler gets to run one change: the engine, the project, options, the event sink and
the containers made so far. Built once per run by the scheduler (scheduler.py); the `Handler`
protocol is the contract every per-kind module (containers, images, networks, volumes) meets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from msgspec import Struct, field

from reconciler.execute.outcome import Result
from reconciler.model.plan import Change
from reconciler.model.spec import Spec

EventFn = Callable[[dict[str, Any]], None]
ProgressFn = Callable[[dict[str, Any]], None]


class ExecOptions(Struct, frozen=True):
    """How the executor runs a plan: set by the commands and watch, read by the scheduler and
    its handlers."""

    parallel: int = 8
    wait_timeout: float = 120.0  # deadline for health / dependency conditions
    settle: float = 1.0  # seconds a new container (no healthcheck) must stay up (settle.py)
    renew_anon_volumes: bool = False  # a replacement gets fresh anonymous volumes
    # Set from another thread (watch on SIGTERM) to end waits as Ctrl-C does: replacements
    # under way restore their old containers. None: the executor's own.
    cancel: threading.Event | None = None


class RunContext(Struct):
    """What every handler gets for one run: made once per run by the scheduler."""

    engine: Any  # an engine.port.EnginePort
    project: str
    spec: Spec | None
    options: ExecOptions
    emit: EventFn
    cancel: threading.Event
    # `options.parallel` changes work on the engine at once; a change that only waits (a new
    # container settling, a health or dependency condition) gives its slot up meanwhile
    slots: threading.BoundedSemaphore | None = None
    _objects: dict[str, list[str]] = field(default_factory=dict)  # group -> object ids
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def working(self) -> AbstractContextManager[None]:
        """Hold one of the run's slots (the scheduler, around each change)."""
        slots = self.slots
        return nullcontext() if slots is None else _between(slots.acquire, slots.release)

    def waiting(self) -> AbstractContextManager[None]:
        """Inside `working()`: only waiting (and reading) meanwhile, so another change may
        use the slot; taken back before the change goes on."""
        slots = self.slots
        return nullcontext() if slots is None else _between(slots.release, slots.acquire)

    def record(self, group: str, object_id: str) -> None:
        """Remember an object a group has (or now has): dependents wait on these."""
        with self._lock:
            self._objects.setdefault(group, []).append(object_id)

    def objects(self, group: str) -> list[str]:
        with self._lock:
            return list(self._objects.get(group, ()))

    def progress(self, change: Change) -> ProgressFn:
        def forward(detail: dict[str, Any]) -> None:
            self.emit({"event": "progress", "address": change.address, "detail": detail})

        return forward


class Handler(Protocol):
    """Runs the changes of one kind. Registered in registry.HANDLERS by kind."""

    def run(self, change: Change, ctx: RunContext) -> Result:
        """Do the change; raise a ReconcilerError with a clear message when it fails."""
        ...

    def releases(self, change: Change) -> bool:
        """True when the change frees names or ports (a removal)."""
        ...

    def claims(self, change: Change) -> bool:
        """True when the change needs names or ports: it runs after every release of its kind."""
        ...


@contextmanager
def _between(first: Callable[[], Any], last: Callable[[], Any]) -> Iterator[None]:
    first()
    try:
        yield
    finally:
        last()
