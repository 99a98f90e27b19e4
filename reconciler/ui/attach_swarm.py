"""`exec` and `logs` on a Swarm (target swarm): the running tasks of the project's services as
containers of this node. A task on another node cannot be reached through this engine: `exec`
says which node runs it; `logs` shows this node's tasks and names the others. Called by
commands/exec.py and commands/logs.py.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import Conflict, NotFound
from reconciler.model.state import ObservedContainer
from reconciler.model.swarm import ObservedTask, SwarmState


def _container(project: str, key: str, name: str, task: ObservedTask) -> ObservedContainer:
    return ObservedContainer(
        id=task.container_id,
        name=f"{name}.{task.slot}",
        project=project,
        key=key,
        replica=task.slot,
        status="running",
    )


def _node_name(swarm: SwarmState, node_id: str) -> str:
    node = swarm.nodes.get(node_id)
    if node is None:
        return node_id[:12]
    return f"{node.hostname or node.id[:12]} ({node.address})" if node.address else node.hostname


def task_containers(engine: Any, project: str) -> tuple[list[ObservedContainer], list[str]]:
    """This node's running tasks as containers, and a line for each running task elsewhere."""
    swarm: SwarmState = engine.observe_swarm(project)
    local: list[ObservedContainer] = []
    remote: list[str] = []
    for key, service in sorted(swarm.services.items()):
        for task in service.running_tasks:
            if task.node_id == swarm.node_id and task.container_id:
                local.append(_container(project, key, service.name, task))
            else:
                where = _node_name(swarm, task.node_id)
                remote.append(f"{service.name}.{task.slot} runs on node {where}")
    return sorted(local, key=lambda c: (c.key, c.replica)), remote


def find_task(engine: Any, project: str, name: str, replica: int | None) -> ObservedContainer:
    """The running task of service `name` (slot `replica`, default: the first on this node)
    as a container of this node; a clear error naming the node when it runs elsewhere."""
    swarm: SwarmState = engine.observe_swarm(project)
    service = swarm.services.get(name)
    if service is None:
        known = ", ".join(sorted(swarm.services)) or "none"
        raise NotFound(f"no service {name!r} in project {project} (its services: {known})")
    tasks = sorted(service.running_tasks, key=lambda t: t.slot)
    if replica is not None:
        tasks = [t for t in tasks if t.slot == replica]
        if not tasks:
            raise NotFound(f"{service.name} has no running task in slot {replica}")
    local = [t for t in tasks if t.node_id == swarm.node_id and t.container_id]
    if local:
        return _container(project, name, service.name, local[0])
    if not tasks:
        raise Conflict(f"{service.name} has no running task; see `reconciler status`")
    elsewhere = ", ".join(
        f"{service.name}.{t.slot} on node {_node_name(swarm, t.node_id)}" for t in tasks
    )
    raise Conflict(
        f"{service.name}: no task runs on this node ({_node_name(swarm, swarm.node_id)}); "
        f"{elsewhere}: run exec against that node's engine (docker -H ... exec)"
    )
