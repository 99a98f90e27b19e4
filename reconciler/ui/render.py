"""Text rendering of plans and apply events, Terraform-style. Called by the CLI commands.

Colours are plain ANSI codes, used only when the caller says so (a TTY without NO_COLOR).
"""

from __future__ import annotations

from typing import Any

from reconciler.model.plan import SYMBOLS, Action, Change, Plan

COLORS = {
    Action.CREATE: "32",  # green
    Action.START: "32",
    Action.REPLACE: "33",  # yellow
    Action.PULL: "36",  # cyan
    Action.BUILD: "36",
    Action.COMMIT: "36",
    Action.REMOVE: "31",  # red
    Action.STOP: "35",  # magenta
}
# The summary's words, by the action's name (Change.name: the verb, with the kind for objects).
NOUNS = {
    "create": "to create",
    "start": "to start",
    "stop": "to stop",
    "replace": "to replace",
    "remove": "to remove",
    "pull": "to pull",
    "build": "to build",
    "commit": "to commit",
    "remove-image": "image(s) to remove",
    "create-network": "network(s) to create",
    "replace-network": "network(s) to recreate",
    "remove-network": "network(s) to remove",
    "create-volume": "volume(s) to create",
    "remove-volume": "volume(s) to remove",
    "create-service": "service(s) to create",
    "update-service": "service(s) to update",
    "scale-service": "service(s) to scale",
    "remove-service": "service(s) to remove",
}


def paint(text: str, code: str | None, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def change_line(change: Change, color: bool) -> str:
    symbol = SYMBOLS.get(change.action, "?")
    head = paint(f"{symbol} {change.address}", COLORS.get(change.action), color)
    name = f" ({change.target.name})" if change.target.name else ""
    cond = " (if the image changes)" if change.conditional else ""
    return f"  {head}{name}: {change.name}{cond}: {change.reason}"


def render_plan(plan: Plan, color: bool = False) -> str:
    lines: list[str] = []
    actionable = plan.actionable
    if not actionable:
        count = sum(1 for c in plan.changes if c.target.kind == "container")
        lines.append(
            f"No changes. Project {plan.project} is up to date "
            f"({count} container{'s' if count != 1 else ''})."
        )
    else:
        lines.append(f"Plan for project {plan.project}:")
        lines.append("")
        for change in actionable:
            lines.append(change_line(change, color))
            for diff in change.diffs:
                lines.append(f"      {diff.render()}")
            for warning in change.warnings:
                lines.append("      " + paint(f"warning: {warning}", "33", color))
        lines.append("")
        lines.append(f"Plan: {summary_text(plan)}.")
    for warning in plan.warnings:
        lines.append(paint(f"warning: {warning}", "33", color))
    return "\n".join(lines)


def summary_text(plan: Plan) -> str:
    counts = plan.counts()
    parts = [f"{counts[str(a)]} {NOUNS[a]}" for a in NOUNS if str(a) in counts]
    return ", ".join(parts) or "nothing to do"


PAST = {
    "done": "✓",
    "unchanged": "=",
    "failed": "✗",
    "skipped": "↷",  # not "-": that means remove
}


def event_line(event: dict[str, Any], color: bool = False) -> str | None:
    """One line for an apply event, or None for events not shown in text mode."""
    kind = event.get("event")
    if kind == "begin":
        if event["action"] in (
            "pull",
            "build",
            "commit",
            "replace",
            "replace-network",
            "update-service",
        ):
            return f"  … {event['address']} ({event['name']}): {event['action']}: {event['reason']}"
        return None
    if kind in PAST:
        code = {"done": "32", "failed": "31", "skipped": "33"}.get(kind)
        mark = paint(PAST[kind], code, color)
        secs = f" in {event['seconds']:.1f}s" if event.get("seconds") else ""
        said = "skipped: " if kind == "skipped" else ""
        return f"  {mark} {event['address']} ({event['name']}){secs}: {said}{event['message']}"
    return None
