"""Issue 15 (6): a host port published by a container outside the project is a located plan
error at the container's port that names the other container."""

from __future__ import annotations

from reconciler.errors import Location
from reconciler.model.spec import ContainerSpec, PortBinding, Spec
from reconciler.model.state import ForeignPort, ObservedImage, State
from reconciler.plan.planner import plan

IMG = "reg.local/app:1"
ID1 = "sha256:" + "1" * 64


def spec_with(*ports: PortBinding) -> Spec:
    web = ContainerSpec(key="web", image=IMG, ports=ports)
    return Spec(project="p", path="/s.yaml", images={}, containers={"web": web})


def state_with(*foreign: ForeignPort) -> State:
    return State(
        project="p",
        images={IMG: ObservedImage(id=ID1, tags=(IMG,))},
        foreign_ports=foreign,
    )


AT = Location("s.yaml", 7, 9)


def test_clash_with_a_foreign_container_is_a_located_error():
    port = PortBinding(80, "tcp", "127.0.0.1", 18080, location=AT)
    result = plan(spec_with(port), state_with(ForeignPort("0.0.0.0", "tcp", 18080, "other")))
    assert [p.render() for p in result.errors] == [
        "s.yaml:7:9: containers.web.ports[0]: host port 127.0.0.1:18080/tcp is already "
        "published by container other, which this project does not own"
        " (stop that container, or choose another host port)"
    ]


def test_no_clash_on_another_address_protocol_or_port():
    port = PortBinding(80, "tcp", "127.0.0.1", 18080, location=AT)
    others = (
        ForeignPort("127.0.0.2", "tcp", 18080, "a"),
        ForeignPort("127.0.0.1", "udp", 18080, "b"),
        ForeignPort("127.0.0.1", "tcp", 18081, "c"),
    )
    assert plan(spec_with(port), state_with(*others)).errors == ()


def test_engine_chosen_ports_never_clash():
    port = PortBinding(80, "tcp", "127.0.0.1", None)
    assert plan(spec_with(port), state_with(ForeignPort("", "tcp", 18080, "x"))).errors == ()
