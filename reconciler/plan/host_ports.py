"""Host ports the spec publishes that a container outside the project already publishes:
located plan errors that name the other container, so that `plan` exits 1 and `apply` refuses
before it stops anything (the engine would fail the start with "port is already allocated").

Pure; called by plan/planner.py for the engine target.
"""

from __future__ import annotations

from reconciler.errors import Problem
from reconciler.model.spec import ContainerSpec, PortBinding, Spec
from reconciler.model.state import ForeignPort, State

_EVERY = ("", "0.0.0.0", "::")


def _overlap(a: str, b: str) -> bool:
    return a in _EVERY or b in _EVERY or a == b


def _host_ports(port: PortBinding, replicas: int) -> list[int]:
    if port.host_port is None:
        return []
    if port.container_port_end is not None:  # a range: every host port of it
        return list(range(port.host_port, (port.host_port_end or port.host_port) + 1))
    return sorted({p for r in range(1, replicas + 1) if (p := port.host_port_for(r)) is not None})


def _clash(port: PortBinding, number: int, foreign: tuple[ForeignPort, ...]) -> str | None:
    for other in foreign:
        same = other.port == number and other.protocol == port.protocol
        if same and _overlap(port.host_ip, other.host_ip):
            return other.container
    return None


def foreign_port_clashes(spec: Spec, state: State) -> list[Problem]:
    """One problem per published host port another container already holds."""
    if not state.foreign_ports:
        return []
    problems = []
    for key, container in spec.containers.items():
        if container.state == "absent":
            continue
        problems += _container_clashes(key, container, state.foreign_ports)
    return problems


def _container_clashes(
    key: str, container: ContainerSpec, foreign: tuple[ForeignPort, ...]
) -> list[Problem]:
    problems = []
    for index, port in enumerate(container.ports):
        for number in _host_ports(port, container.replicas):
            other = _clash(port, number, foreign)
            if other is None:
                continue
            address = f"{port.host_ip or '0.0.0.0'}:{number}/{port.protocol}"
            problems.append(
                Problem(
                    f"host port {address} is already published by container {other}, which "
                    "this project does not own",
                    port.location or container.location,
                    f"containers.{key}.ports[{index}]",
                    "stop that container, or choose another host port",
                )
            )
            break  # one problem per port entry
    return problems
