"""`reconciler restart SPEC [NAME...]`: stop and start the project's containers (the named
ones: containers keys or container names; default all), like `docker compose restart`:
dependencies start first, nothing is recreated, and a stopped container is started.
One line per container (or one JSON object with -o json); exit 1 when any failed."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load
from reconciler.engine.port import EnginePort
from reconciler.errors import EngineError
from reconciler.model.spec import Spec
from reconciler.model.state import ObservedContainer
from reconciler.ui import attach
from reconciler.ui.output import print_json, wants_json


def dependency_rank(spec: Spec) -> dict[str, int]:
    """containers key -> its place in depends_on order (dependencies first)."""
    order: list[str] = []

    def visit(key: str, stack: tuple[str, ...]) -> None:
        if key in order or key in stack or key not in spec.containers:
            return
        for dep in sorted(d.target for d in spec.containers[key].depends_on):
            visit(dep, (*stack, key))
        order.append(key)

    for key in sorted(spec.containers):
        visit(key, ())
    return {key: i for i, key in enumerate(order)}


def run(args: argparse.Namespace) -> int:
    spec = load(args)
    rank = dependency_rank(spec)
    failed = 0
    with connect() as engine:
        containers = attach.project_containers(engine, spec.project)
        chosen = attach.select_containers(containers, spec.project, args.names)
        chosen.sort(key=lambda c: (rank.get(c.key, len(rank)), c.key, c.replica))
        for container in chosen:
            error = _restart(engine, spec, container, args.timeout)
            failed += error is not None
            if wants_json(args):
                print_json(
                    {
                        "event": "failed" if error else "done",
                        "action": "restart",
                        "container": container.name,
                        "message": error or "restarted",
                    }
                )
            elif error:
                print(f"failed: restart {container.name}: {error}")
            else:
                print(f"restarted {container.name}", flush=True)
    if not chosen and not wants_json(args):
        print(f"Project {spec.project}: no containers to restart.")
    return 1 if failed else 0


def _restart(
    engine: EnginePort, spec: Spec, container: ObservedContainer, timeout: float | None
) -> str | None:
    declared = spec.containers.get(container.key)
    if timeout is None and declared is not None:
        timeout = declared.stop_timeout
    try:
        engine.stop_container(container.id, timeout)
        engine.start_container(container.id)
    except EngineError as exc:
        return str(exc)
    return None
