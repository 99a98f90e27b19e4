"""exec/logs on a Swarm (ui/attach_swarm.py): a task of this node is found as a container; a
task on another node is a clear error naming the node; logs name the tasks elsewhere."""

from __future__ import annotations

import pytest

from reconciler.errors import Conflict, NotFound
from reconciler.model.swarm import ObservedNode, ObservedService, ObservedTask, SwarmState
from reconciler.ui.attach_swarm import find_task, task_containers


class Swarm:
    def __init__(self, state: SwarmState) -> None:
        self.state = state

    def observe_swarm(self, project: str) -> SwarmState:
        return self.state


def task(slot: int, node: str, cid: str) -> ObservedTask:
    return ObservedTask(
        id=f"t{slot}",
        service_id="s1",
        node_id=node,
        slot=slot,
        state="running",
        desired_state="running",
        container_id=cid,
    )


ENGINE = Swarm(
    SwarmState(
        node_id="n1",
        services={
            "web": ObservedService(
                id="s1",
                name="p_web",
                project="p",
                key="web",
                replicas=2,
                tasks=(task(1, "n1", "c1"), task(2, "n2", "c2")),
            )
        },
        nodes={
            "n1": ObservedNode("n1", "vm", "manager", "ready", "10.231.0.1"),
            "n2": ObservedNode("n2", "rcnode2", "worker", "ready", "10.231.0.2"),
        },
    )
)


def test_a_task_of_this_node():
    found = find_task(ENGINE, "p", "web", None)
    assert (found.id, found.name, found.replica) == ("c1", "p_web.1", 1)


def test_a_task_on_another_node_names_it():
    with pytest.raises(Conflict) as err:
        find_task(ENGINE, "p", "web", 2)
    assert "p_web.2 on node rcnode2 (10.231.0.2)" in str(err.value)
    assert "no task runs on this node (vm (10.231.0.1))" in str(err.value)


def test_unknown_service_and_slot():
    with pytest.raises(NotFound, match="its services: web"):
        find_task(ENGINE, "p", "api", None)
    with pytest.raises(NotFound, match="slot 9"):
        find_task(ENGINE, "p", "web", 9)


def test_logs_take_this_nodes_tasks_and_name_the_others():
    local, elsewhere = task_containers(ENGINE, "p")
    assert [c.name for c in local] == ["p_web.1"]
    assert elsewhere == ["p_web.2 runs on node rcnode2 (10.231.0.2)"]
