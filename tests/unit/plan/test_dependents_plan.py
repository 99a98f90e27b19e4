"""Containers that follow another's replacement (issue 13): `network_mode: service:KEY` and
`depends_on: {KEY: {restart: true}}` make the dependent a replacement when KEY is replaced;
nothing follows when KEY is unchanged, and a plain dependency does not follow. Planner only."""

from __future__ import annotations

import json

from reconciler.model.config import container_config
from reconciler.model.labels import canonical_json, config_hash
from reconciler.model.spec import ContainerSpec, Dependency, Spec, container_name
from reconciler.model.state import ObservedContainer, ObservedImage, State
from reconciler.plan.planner import plan

IMG = "reg.local/app:1"
ID = "sha256:" + "1" * 64


def spec_of(*containers: ContainerSpec) -> Spec:
    return Spec(project="p", path="/spec.yaml", containers={c.key: c for c in containers})


def state_of(spec: Spec) -> State:
    """Every container of `spec` running exactly as `spec` describes it."""
    observed = []
    for n, c in enumerate(spec.containers.values(), 1):
        cfg = container_config(spec, c, 1, ID)
        observed.append(
            ObservedContainer(
                id=f"{n:02d}".ljust(64, "c"),
                name=container_name("p", c, 1),
                project="p",
                key=c.key,
                replica=1,
                status="running",
                image=IMG,
                image_id=ID,
                config_hash=config_hash(cfg),
                config=json.loads(canonical_json(cfg)),
            )
        )
    images = {IMG: ObservedImage(ID, (IMG,))}
    return State(project="p", containers=tuple(observed), images=images)


WEB = ContainerSpec(key="web", image=IMG, command=("httpd",))
WEB2 = ContainerSpec(key="web", image=IMG, command=("httpd", "-v"))


def actions(desired: Spec, running: Spec) -> dict[str, tuple[str, str]]:
    result = plan(desired, state_of(running))
    return {
        c.target.key: (c.action.value, c.reason)
        for c in result.changes
        if c.target.kind == "container"
    }


def test_network_mode_service_follows_a_replacement():
    side = ContainerSpec(
        key="side", image=IMG, network_mode="service:web", depends_on=(Dependency("web"),)
    )
    got = actions(spec_of(WEB2, side), spec_of(WEB, side))
    assert got["web"][0] == "replace"
    assert got["side"] == ("replace", "follows web (replaced)")
    assert actions(spec_of(WEB, side), spec_of(WEB, side))["side"][0] == "unchanged"


def test_depends_on_restart_follows_and_a_plain_dependency_does_not():
    restart = ContainerSpec(key="a", image=IMG, depends_on=(Dependency("web", restart=True),))
    plain = ContainerSpec(key="b", image=IMG, depends_on=(Dependency("web"),))
    got = actions(spec_of(WEB2, restart, plain), spec_of(WEB, restart, plain))
    assert got["a"] == ("replace", "follows web (replaced)")
    assert got["b"][0] == "unchanged"


def test_a_chain_follows_through():
    a = ContainerSpec(key="a", image=IMG, depends_on=(Dependency("web", restart=True),))
    b = ContainerSpec(key="b", image=IMG, network_mode="service:a", depends_on=(Dependency("a"),))
    got = actions(spec_of(WEB2, a, b), spec_of(WEB, a, b))
    assert got["a"][0] == "replace" and got["b"] == ("replace", "follows a (replaced)")
