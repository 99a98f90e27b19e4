"""plan/services.py (target swarm), without Docker: create, unchanged, scale, update with field
diffs, conditional update on a pending image, removal of services left out of the spec and of
plain containers of the project, name clashes, volume warnings, destroy."""

from __future__ import annotations

from msgspec.structs import replace

from reconciler.model.labels import config_hash
from reconciler.model.plan import Action, Kind, ServiceIntent
from reconciler.model.spec import BuildSpec, ContainerSpec, ImageSpec, Mount, PortBinding, Spec
from reconciler.model.state import ObservedContainer, ObservedImage, State
from reconciler.model.swarm import ObservedService, SwarmState, service_config, update_order
from reconciler.plan.planner import DestroyOptions, plan, plan_destroy

P = "shop"
IMG = "localhost:5000/stand-in/busybox:1"
ID = "sha256:" + "1" * 64


def spec_of(**containers: ContainerSpec) -> Spec:
    return Spec(project=P, path="/x/spec.yaml", containers=containers, target="swarm")


def web(**fields) -> ContainerSpec:
    return ContainerSpec(key="web", image=IMG, **fields)


def state_of(*services: ObservedService, containers=(), foreign=None) -> State:
    swarm = SwarmState(
        node_id="n1", services={s.key: s for s in services}, foreign_names=foreign or {}
    )
    images = {IMG: ObservedImage(id=ID, tags=(IMG,))}
    return State(project=P, images=images, swarm=swarm, containers=tuple(containers))


def observed(spec: Spec, container: ContainerSpec, replicas: int | None = None) -> ObservedService:
    config = service_config(spec, container, ID)
    return ObservedService(
        id="svc1",
        name=f"{P}_{container.key}",
        project=P,
        key=container.key,
        replicas=container.replicas if replicas is None else replicas,
        config_hash=config_hash(config),
        config=config,
    )


def service_changes(result):
    return [(c.name, c.target.key) for c in result.changes if c.target.kind == Kind.SERVICE]


def test_create_then_unchanged():
    spec = spec_of(web=web(replicas=2))
    result = plan(spec, state_of())
    assert service_changes(result) == [("create-service", "web")]
    [change] = [c for c in result.changes if c.target.kind == Kind.SERVICE]
    assert change.target.name == "shop_web"
    assert change.intent_as(ServiceIntent).replicas == 2
    assert "network.default" in change.depends_on
    assert [c.name for c in result.changes if c.target.kind == Kind.NETWORK] == ["create-network"]
    again = plan(spec, state_of(observed(spec, spec.containers["web"])))
    assert service_changes(again) == [("unchanged", "web")]


def test_scale_is_not_an_update():
    spec = spec_of(web=web(replicas=0))
    result = plan(spec, state_of(observed(spec, spec.containers["web"], replicas=3)))
    assert service_changes(result) == [("scale-service", "web")]
    [scale] = [c for c in result.actionable if c.target.kind == Kind.SERVICE]
    assert scale.reason == "replicas 3 -> 0"


def test_update_with_field_diffs():
    spec = spec_of(web=web(env={"A": "1"}))
    before = observed(spec, spec.containers["web"])
    changed = spec_of(web=web(env={"A": "2"}))
    result = plan(changed, state_of(before))
    assert service_changes(result) == [("update-service", "web")]
    [change] = [c for c in result.actionable if c.target.kind == Kind.SERVICE]
    assert [d.render() for d in change.diffs] == ['env.A: "1" -> "2"']
    assert change.intent_as(ServiceIntent).service_id == "svc1"


def test_pending_build_makes_a_conditional_update():
    build = ImageSpec(
        key="app",
        kind="build",
        reference="localhost:5000/shop/app:latest",
        build=BuildSpec(context="/x"),
    )
    container = ContainerSpec(key="web", image="app")
    spec = replace(spec_of(web=container), images={"app": build})
    current = observed(spec, container)
    state = replace(state_of(current), images={})  # the image is missing: a build is planned
    result = plan(spec, state)
    acting = [c for c in result.actionable if c.target.kind != Kind.NETWORK]
    assert [(c.name, c.target.key) for c in acting] == [("build", "app"), ("update-service", "web")]
    update = acting[1]
    assert update.conditional and "image.app" in update.depends_on
    assert update.intent_as(ServiceIntent).push is True


def test_leftover_service_and_plain_containers_are_removed():
    spec = spec_of(web=web())
    old = ObservedContainer(
        id="c1", name="shop-web-1", project=P, key="web", replica=1, status="running"
    )
    gone = replace(observed(spec, web()), key="old", name="shop_old", id="svc2")
    result = plan(spec, state_of(gone, containers=[old]))
    assert [(c.name, c.target.kind, c.target.key) for c in result.actionable] == [
        ("create-network", "network", "default"),
        ("remove", "container", "web"),
        ("create-service", "service", "web"),
        ("remove-service", "service", "old"),
    ]
    create = next(c for c in result.actionable if c.name == "create-service")
    assert "container.web" in create.depends_on  # the container's ports are freed first


def test_a_foreign_service_name_is_an_error():
    spec = spec_of(web=web())
    result = plan(spec, state_of(foreign={"shop_web": "x1"}))
    [problem] = result.errors
    assert "does not own" in problem.message and problem.path == "containers.web"


def test_volume_and_bind_warnings():
    spec = spec_of(
        web=web(volumes=(Mount("/data", "data", "volume"), Mount("/site", "/srv/site", "bind")))
    )
    [change] = [c for c in plan(spec, state_of()).changes if c.target.kind == Kind.SERVICE]
    assert any("node-local" in w for w in change.warnings)
    assert any("must exist on every node" in w for w in change.warnings)


def test_update_order_respects_fixed_host_ports():
    assert update_order(web()) == "start-first"
    assert update_order(web(ports=(PortBinding(80, mode="host"),))) == "start-first"
    fixed = web(ports=(PortBinding(80, host_port=8080, mode="host"),))
    assert update_order(fixed) == "stop-first"
    assert update_order(web(ports=(PortBinding(80, host_port=8080),))) == "start-first"


def test_destroy_removes_services_before_networks():
    spec = spec_of(web=web())
    result = plan_destroy(P, state_of(observed(spec, web())), DestroyOptions())
    assert [c.name for c in result.changes] == ["remove-service"]
    assert result.changes[0].action is Action.REMOVE
