"""Issue 15 (messages): a skipped action is not marked `-` (remove) and says "skipped" once;
the duration stands before the message, never glued to quoted output."""

from __future__ import annotations

from reconciler.ui.render import event_line


def test_skipped_is_not_marked_as_a_removal():
    line = event_line(
        {
            "event": "skipped",
            "address": "container.web[1]",
            "name": "p-web-1",
            "message": "dependency failed: image.app",
        }
    )
    assert line == "  ↷ container.web[1] (p-web-1): skipped: dependency failed: image.app"


def test_duration_before_the_message():
    line = event_line(
        {
            "event": "failed",
            "address": "container.web[1]",
            "name": "p-web-1",
            "message": "hook exited 1: 'boom'",
            "seconds": 1.25,
        }
    )
    assert line == "  ✗ container.web[1] (p-web-1) in 1.2s: hook exited 1: 'boom'"
