"""Progress for pulls, builds and commits when the output is not a terminal (CI logs, pipes):
the begin and done lines come from the event printer; in between, every few seconds
(`INTERVAL`, or $RECONCILER_PROGRESS_INTERVAL), one line per image still being made: layers
done and bytes for a pull, the step and its instruction for a build or commit. As text:
`  … image.app (localhost:5000/app:1): pull: 2/5 layers, 3.1 MB/12.0 MB`, or as a JSON object
`{"event": "progress-summary", "address", "name", "action", "layers", "layers_done", "bytes",
"bytes_total", "step", "steps", "instruction"}`.

`Heartbeat.feed(event)` reads the executor's events (begin, progress, done...); a daemon
thread writes the lines through the `write` callback it is given. Used by ui/events.py.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import Any

from msgspec import Struct, field

from reconciler.ui.progress import size_text

INTERVAL = 5.0
MADE = ("pull", "build", "commit")
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")  # the classic builder
_BUILDKIT_STEP = re.compile(r"^#\d+ \[(?:[^\]\s]+ )?(\d+)/(\d+)\] (.*)$")  # --progress=plain
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LAYER_DONE = ("Pull complete", "Already exists")


def interval() -> float:
    try:
        value = float(os.environ.get("RECONCILER_PROGRESS_INTERVAL", INTERVAL))
    except ValueError:
        return INTERVAL
    return value if value > 0 else INTERVAL


class Work(Struct):
    """What is known about one pull, build or commit under way."""

    address: str
    name: str
    action: str
    layers: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (current, total)
    layers_done: set[str] = field(default_factory=set)
    step: int | None = None
    steps: int | None = None
    instruction: str = ""

    def read(self, detail: dict[str, Any]) -> None:
        stream = detail.get("stream")
        if isinstance(stream, str):
            for line in _ANSI.sub("", stream).split("\n"):
                match = _STEP.match(line.strip()) or _BUILDKIT_STEP.match(line.strip())
                if match:
                    self.step, self.steps = int(match[1]), int(match[2])
                    self.instruction = match[3].strip()
            return
        layer, status = detail.get("id"), detail.get("status")
        if not isinstance(layer, str) or not isinstance(status, str):
            return
        if status.startswith(("Pulling from", "Digest:", "Status:")):  # the image, not a layer
            return
        pd = detail.get("progressDetail") or {}
        current, total = pd.get("current"), pd.get("total")
        before = self.layers.get(layer, (0, 0))
        if isinstance(total, int) and total > 0 and status == "Downloading":
            self.layers[layer] = (int(current or 0), total)
        else:
            self.layers.setdefault(layer, before)
        if status in _LAYER_DONE:
            self.layers_done.add(layer)
            size = self.layers[layer][1]
            self.layers[layer] = (size, size)

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "progress-summary",
            "address": self.address,
            "name": self.name,
            "action": self.action,
            "layers": len(self.layers),
            "layers_done": len(self.layers_done),
            "bytes": sum(c for c, _ in self.layers.values()),
            "bytes_total": sum(t for _, t in self.layers.values()),
            "step": self.step,
            "steps": self.steps,
            "instruction": self.instruction,
        }

    def text(self) -> str:
        head = f"  … {self.address} ({self.name}): {self.action}"
        if self.step is not None:
            return f"{head}: step {self.step}/{self.steps}: {_cut(self.instruction, 60)}"
        if self.layers:
            done, total = len(self.layers_done), len(self.layers)
            got = sum(c for c, _ in self.layers.values())
            size = sum(t for _, t in self.layers.values())
            amount = f", {size_text(got)}/{size_text(size)}" if size else ""
            return f"{head}: {done}/{total} layers{amount}"
        return f"{head}: running"


class Heartbeat:
    """Collects progress per address; every `every` seconds writes one line (or JSON object)
    per pull, build or commit still under way."""

    def __init__(self, write: Callable[[Work], None], every: float | None = None) -> None:
        self.write = write
        self.every = every if every is not None else interval()
        self.work: dict[str, Work] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def feed(self, event: dict[str, Any]) -> None:
        kind, address = event.get("event"), str(event.get("address", ""))
        with self.lock:
            if kind == "begin" and event.get("action") in MADE:
                self.work[address] = Work(
                    address, str(event.get("name", "")), str(event.get("action"))
                )
                self._start()
            elif kind == "progress" and address in self.work:
                self.work[address].read(event.get("detail") or {})
            elif kind in ("done", "failed", "skipped", "unchanged"):
                self.work.pop(address, None)

    def _start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        while not self.stopped.wait(self.every):
            with self.lock:
                under_way = list(self.work.values())
            for work in under_way:
                try:
                    self.write(work)
                except Exception:  # a display problem never fails the apply
                    return

    def stop(self) -> None:
        self.stopped.set()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
