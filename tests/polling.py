"""Polling with a deadline: the tests' one way to wait for something (never a bare sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def wait_for(
    predicate: Callable[[], Any],
    deadline_s: float = 20.0,
    what: str = "",
    interval: float = 0.05,
) -> Any:
    """Poll until predicate() is truthy and return its value; fail the test at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {deadline_s}s waiting for {what or predicate}")
        time.sleep(interval)
