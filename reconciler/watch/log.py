"""The watch loop's output: `WatchLog` writes timestamped text lines or JSON lines. Created by
commands/watch.py and shared by every part of the loop."""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any


class WatchLog:
    """One line per message: `HH:MM:SS text` (warnings and errors on stderr), or JSON lines
    on stdout with --output json: {"time", "event", "level", "message", ...fields}."""

    def __init__(self, json_lines: bool = False, color: bool = False, stdout=None, stderr=None):
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
