"""What `destroy` removes beyond containers and networks, and what it keeps: with --volumes the
containers' anonymous volumes go with them (the engine's `v=True`), without it the plan says
which volumes and images stay and how to remove them.

Pure; called by plan/planner.py's plan_destroy.
"""

from __future__ import annotations

from msgspec.structs import replace

from reconciler.model.plan import Change, ContainerIntent
from reconciler.model.state import State


def with_anonymous_volumes(containers: list[Change]) -> list[Change]:
    """The removals, each taking its container's anonymous volumes along."""
    return [
        replace(c, intent=replace(c.intent_as(ContainerIntent), remove_volumes=True))
        for c in containers
    ]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _them(n: int) -> str:
    return "it" if n == 1 else "them"


def kept_notes(state: State, volumes: bool, images: bool, keep: frozenset[str]) -> tuple[str, ...]:
    """One line per kind of object destroy keeps, with the way to remove it."""
    notes = []
    if not volumes:
        named = sorted(n for n in state.volumes if n not in keep)
        if named:
            notes.append(
                f"kept {_count(len(named), 'volume')}: {', '.join(named)} "
                f"(destroy --volumes removes {_them(len(named))})"
            )
        anonymous = sorted({v for oc in state.containers for v in oc.anonymous_volumes})
        if anonymous:
            notes.append(
                f"kept {_count(len(anonymous), 'anonymous volume')} of the removed containers "
                f"(destroy --volumes removes {_them(len(anonymous))} with their containers; "
                "now: docker volume rm "
                f"{' '.join(anonymous)})"
            )
    if not images and state.project_images:
        n = len(state.project_images)
        notes.append(
            f"kept {_count(n, 'image')} the project built or committed "
            f"(destroy --images removes {_them(n)}, and untags the images it pulled)"
        )
    return tuple(notes)
