"""Containers Compose created for the spec's project (plan/adopt.py): held and named without
--adopt-compose, replaced with it; their network and volumes are used as they are."""

from __future__ import annotations

from reconciler.model.labels import aside_name
from reconciler.model.plan import Action, ContainerIntent, Reason
from reconciler.model.spec import ContainerSpec, Mount, Spec, VolumeSpec
from reconciler.model.state import (
    ObservedContainer,
    ObservedImage,
    ObservedNetwork,
    ObservedVolume,
    State,
)
from reconciler.plan.planner import PlanOptions, plan

P = "shop"
IMG = "localhost:5000/stand-in/busybox:1"
ID = "sha256:" + "1" * 64
COMPOSE = {"com.docker.compose.project": P}


def compose_ctr(name: str, service: str, number: int = 1) -> ObservedContainer:
    labels = {
        **COMPOSE,
        "com.docker.compose.service": service,
        "com.docker.compose.container-number": str(number),
    }
    return ObservedContainer(
        id=f"id-{name}",
        name=name,
        project=P,
        key=service,
        replica=number,
        status="running",
        image=IMG,
        image_id=ID,
        labels=labels,
    )


def world(*observed: ObservedContainer) -> tuple[Spec, State]:
    spec = Spec(
        project=P,
        path="/s.yaml",
        volumes={"data": VolumeSpec(key="data", name=f"{P}_data")},
        containers={
            "web": ContainerSpec(key="web", image=IMG, volumes=(Mount("/data", "data", "volume"),))
        },
    )
    state = State(
        project=P,
        foreign_names={oc.name: oc.id for oc in observed},
        compose_containers=observed,
        images={IMG: ObservedImage(ID, (IMG,))},
        other_networks={f"{P}_default": ObservedNetwork("n1", f"{P}_default", labels=COMPOSE)},
        other_volumes={f"{P}_data": ObservedVolume(f"{P}_data", labels=COMPOSE)},
    )
    return spec, state


def by_kind(result, kind: str):
    return [c for c in result.changes if c.target.kind == kind]


def test_without_the_flag_compose_containers_are_held_and_named():
    spec, state = world(compose_ctr("shop-web-1", "web"))  # a v2 name: the same as ours
    result = plan(spec, state)
    assert not result.errors  # no name clash, no network or volume clash
    (change,) = by_kind(result, "container")
    assert change.action is Action.UNCHANGED and change.cause is Reason.ADOPT
    assert "--adopt-compose" in change.reason
    assert any("shop-web-1" in w and "--adopt-compose" in w for w in result.warnings)
    (network,) = by_kind(result, "network")
    assert network.action is Action.UNCHANGED and "Compose" in network.reason
    (volume,) = by_kind(result, "volume")
    assert volume.action is Action.UNCHANGED and "Compose" in volume.reason


def test_with_the_flag_each_is_replaced_safely():
    spec, state = world(compose_ctr("shop_web_1", "web"))  # a docker-compose 1.x name
    result = plan(spec, state, PlanOptions(adopt_compose=True))
    assert not result.errors
    (change,) = by_kind(result, "container")
    assert change.action is Action.REPLACE and change.cause is Reason.ADOPT
    assert change.container_id == "id-shop_web_1" and change.target.name == "shop-web-1"
    intent = change.intent_as(ContainerIntent)
    assert intent.adopt_from == "shop_web_1" and intent.restore is None and intent.start
    assert not any("--adopt-compose" in w for w in result.warnings)


def test_a_compose_container_the_spec_does_not_match_is_left_alone():
    spec, state = world(compose_ctr("shop_web_1", "web"), compose_ctr("shop_db_1", "db"))
    result = plan(spec, state, PlanOptions(adopt_compose=True))
    assert [c.container_id for c in by_kind(result, "container")] == ["id-shop_web_1"]
    assert any("shop_db_1" in w and "left as it is" in w for w in result.warnings)


def test_an_interrupted_takeover_goes_on_from_the_aside_name():
    aside = compose_ctr(aside_name("shop-web-1", "abcdef0123456789"), "web")
    spec, state = world(aside)
    (change,) = by_kind(plan(spec, state, PlanOptions(adopt_compose=True)), "container")
    intent = change.intent_as(ContainerIntent)
    assert change.action is Action.REPLACE and intent.restore == aside.name
    assert intent.adopt_from == "shop-web-1"
