"""`reconciler status` for target swarm: one row per service (desired and running tasks, the
nodes they run on, the pinned image digest, whether it is up to date with the spec) and, per
service, the tasks that are not running with the last error Swarm gave. Text or JSON; called
by commands/status.py.
"""

from __future__ import annotations

from typing import Any

from reconciler.model.plan import Action, Kind, Plan
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.model.swarm import SwarmState
from reconciler.ui.render import paint

IPVS_NOTE = (
    "note: {name} publishes through the ingress routing mesh; if such a port does not answer, "
    "check that the kernel has IPVS (dockerd logs 'Could not get ipvs family information'), "
    "or publish with `mode: host` (docs/swarm.md)"
)


def service_rows(spec: Spec, state: State, plan: Plan) -> list[dict[str, Any]]:
    swarm = state.swarm or SwarmState()
    changes = {c.target.key: c for c in plan.changes if c.target.kind == Kind.SERVICE}
    rows = []
    for key in sorted(set(spec.containers) | set(swarm.services)):
        service = swarm.services.get(key)
        change = changes.get(key)
        tasks = service.tasks if service else ()
        running = [t for t in tasks if t.running and t.desired_state == "running"]
        nodes = sorted({_node(swarm, t.node_id) for t in running})
        image = service.image if service else ""
        rows.append(
            {
                "key": key,
                "service": service.name if service else "",
                "desired": service.replicas if service else 0,
                "running": len(running),
                "nodes": nodes,
                "image": image.split("@", 1)[0],
                "digest": image.split("@", 1)[1] if "@" in image else "",
                "ports": list(service.published) if service else [],
                "ingress": bool(service and service.ingress),
                "update": service.update_state if service else "",
                "up_to_date": change is not None and change.action is Action.UNCHANGED,
                "action": change.name if change is not None else "",
                "tasks": [
                    {
                        "slot": t.slot,
                        "node": _node(swarm, t.node_id),
                        "state": t.state,
                        "desired": t.desired_state,
                        "error": t.error,
                    }
                    for t in _failed_last(tasks)
                ],
            }
        )
    return rows


def _node(swarm: SwarmState, node_id: str) -> str:
    node = swarm.nodes.get(node_id)
    return node.hostname if node and node.hostname else node_id[:12]


def _failed_last(tasks: Any) -> list[Any]:
    """Per slot, the newest task that is not running, if it has an error."""
    newest: dict[int, Any] = {}
    for task in tasks:
        if task.running or not task.error:
            continue
        if task.slot not in newest or task.timestamp > newest[task.slot].timestamp:
            newest[task.slot] = task
    return [newest[slot] for slot in sorted(newest)]


def print_services(project: str, rows: list[dict[str, Any]], color: bool) -> None:
    if not rows:
        print(f"Project {project}: no services.")
        return
    print(f"Project {project} (Swarm services):")
    for row in rows:
        state = "up to date" if row["up_to_date"] else (row["action"] or "not in the spec")
        code = "32" if row["up_to_date"] else "33"
        digest = f"@{row['digest'][:19]}" if row["digest"] else ""
        nodes = ", ".join(row["nodes"]) or "-"
        ports = f"  {', '.join(row['ports'])}" if row["ports"] else ""
        update = f"  update {row['update']}" if row["update"] else ""
        print(
            f"  {row['key']:<16} {row['running']}/{row['desired']} running  on {nodes}  "
            f"{row['image']}{digest}  {paint(state, code, color)}{update}{ports}"
        )
        for task in row["tasks"]:
            print(
                f"    task {row['service']}.{task['slot']} on {task['node']}: {task['state']}: "
                f"{task['error']}"
            )
    for row in rows:
        if row["ingress"]:
            print(IPVS_NOTE.format(name=row["service"]))
