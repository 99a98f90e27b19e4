"""Network and volume decisions of the planner, without Docker: tables of (spec, observed
networks/volumes) -> expected changes and plan errors; plus the executor's network and volume
actions against a small recording engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from reconciler.model.config import container_config, network_config, volume_config
from reconciler.model.labels import LABEL_PROJECT, stamp
from reconciler.model.plan import Action, Plan
from reconciler.model.spec import (
    ContainerSpec,
    Mount,
    NetworkAttachment,
    NetworkSpec,
    Spec,
    VolumeSpec,
)
from reconciler.model.state import (
    ObservedContainer,
    ObservedImage,
    ObservedNetwork,
    ObservedVolume,
    State,
)
from reconciler.plan.planner import DestroyOptions, PlanOptions, plan, plan_destroy

P = "p"
IMG = "reg.local/app:1"
IMG_ID = "sha256:" + "1" * 64


def ctr(key: str = "web", **fields: Any) -> ContainerSpec:
    fields.setdefault("image", IMG)
    return ContainerSpec(key=key, **fields)


def spec_of(*containers: ContainerSpec, networks=(), volumes=()) -> Spec:
    return Spec(
        project=P,
        path="/spec.yaml",
        containers={c.key: c for c in containers},
        networks={n.key: n for n in networks},
        volumes={v.key: v for v in volumes},
    )


def net(key: str, **fields: Any) -> NetworkSpec:
    fields.setdefault("name", f"{P}_{key}")
    return NetworkSpec(key=key, **fields)


def vol(key: str, **fields: Any) -> VolumeSpec:
    fields.setdefault("name", f"{P}_{key}")
    return VolumeSpec(key=key, **fields)


def owned_labels(kind: str, key: str, config: dict) -> dict[str, str]:
    return stamp(P, key, kind, config, None, config.get("labels"))


def obs_net(network: NetworkSpec, **changes: Any) -> ObservedNetwork:
    """The network as this project would have created it from `network` (+ config changes)."""
    config = {**network_config(network), **changes}
    return ObservedNetwork(
        f"id-{network.name}", network.name, labels=owned_labels("network", network.key, config)
    )


def obs_vol(volume: VolumeSpec, **changes: Any) -> ObservedVolume:
    config = {**volume_config(volume), **changes}
    return ObservedVolume(volume.name, labels=owned_labels("volume", volume.key, config))


def obs_ctr(spec: Spec, container: ContainerSpec, n: int = 1) -> ObservedContainer:
    from reconciler.model.labels import config_hash
    from reconciler.model.spec import container_name

    cfg = container_config(spec, container, 1, IMG_ID)
    return ObservedContainer(
        id=f"{n:02d}".ljust(64, "c"),
        name=container_name(P, container, 1),
        project=P,
        key=container.key,
        replica=1,
        status="running",
        image=IMG,
        image_id=IMG_ID,
        config_hash=config_hash(cfg),
        config=cfg,
    )


def state_of(
    *,
    containers=(),
    networks=(),
    volumes=(),
    other_networks=(),
    other_volumes=(),
) -> State:
    return State(
        project=P,
        containers=tuple(containers),
        images={IMG: ObservedImage(IMG_ID, (IMG,))},
        networks={n.name: n for n in networks},
        volumes={v.name: v for v in volumes},
        other_networks={n.name: n for n in other_networks},
        other_volumes={v.name: v for v in other_volumes},
    )


def resource_changes(result: Plan) -> list[tuple[str, str, str]]:
    return [
        (c.name, c.address, c.target.name)
        for c in result.changes
        if c.target.kind in ("network", "volume")
    ]


# --- container configs: default network, aliases, engine names ---------------------------------


def test_every_container_joins_the_default_network_by_its_key():
    web = ctr("web")
    cfg = container_config(spec_of(web), web, 1, IMG_ID)
    assert cfg["networks"] == [{"network": "default", "name": "p_default", "aliases": ["web"]}]


def test_an_explicit_network_list_replaces_the_default_and_keeps_the_key_alias():
    web = ctr("web", networks=(NetworkAttachment("front", ("www",)), NetworkAttachment("back")))
    spec = spec_of(web, networks=(net("front"), net("back", name="shared-back", external=True)))
    assert container_config(spec, web, 1, IMG_ID)["networks"] == [
        {"network": "back", "name": "shared-back", "aliases": ["web"]},
        {"network": "front", "name": "p_front", "aliases": ["web", "www"]},
    ]


def test_named_mounts_record_the_engine_name_of_their_volume():
    web = ctr(
        "web",
        volumes=(
            Mount("/data", "data"),
            Mount("/cache", "loose"),
            Mount("/src", "/host/src", "bind"),
            Mount("/tmp/x", None, "anonymous"),
        ),
    )
    cfg = container_config(spec_of(web, volumes=(vol("data"),)), web, 1, IMG_ID)
    names = {m["target"]: m.get("name") for m in cfg["volumes"]}
    assert names == {"/data": "p_data", "/cache": "loose", "/src": None, "/tmp/x": None}


# --- plan tables --------------------------------------------------------------------------------

WEB = ctr("web")
FRONT = net("front", driver="bridge", labels={"tier": "front"})
WEB_FRONT = ctr("web", networks=(NetworkAttachment("front"),))
DATA = vol("data", driver_opts={"type": "tmpfs", "device": "tmpfs"})
WEB_DATA = ctr("web", volumes=(Mount("/data", "data"),))
WEB_LOOSE = ctr("web", volumes=(Mount("/data", "loose"),))
EXT_NET = net("shared", name="shared", external=True)
EXT_VOL = vol("keep", name="keep", external=True)
WEB_EXT = ctr("web", networks=(NetworkAttachment("shared"),), volumes=(Mount("/k", "keep"),))
DEFAULT = net("default")


@dataclass(frozen=True)
class Case:
    id: str
    spec: Spec
    state: State
    expected: tuple[tuple[str, str, str], ...]  # (action, address, engine name), plan order
    error: str | None = None
    warning: str | None = None
    extra_deps: dict[str, tuple[str, ...]] = field(default_factory=dict)


CASES = [
    Case(
        "default network created first",
        spec_of(WEB),
        state_of(),
        (("create-network", "network.default", "p_default"),),
    ),
    Case(
        "default network up to date",
        spec_of(WEB),
        state_of(networks=[obs_net(DEFAULT)]),
        (("unchanged", "network.default", "p_default"),),
    ),
    Case(
        "declared network created, default not needed",
        spec_of(WEB_FRONT, networks=(FRONT,)),
        state_of(),
        (("create-network", "network.front", "p_front"),),
    ),
    Case(
        "changed network recreated",
        spec_of(WEB_FRONT, networks=(FRONT,)),
        state_of(networks=[obs_net(FRONT, internal=True)]),
        (("replace-network", "network.front", "p_front"),),
    ),
    Case(
        "network of a removed key removed after the containers",
        spec_of(WEB),
        state_of(networks=[obs_net(DEFAULT), obs_net(FRONT)]),
        (
            ("unchanged", "network.default", "p_default"),
            ("remove-network", "network.front", "p_front"),
        ),
    ),
    Case(
        "no container left: default network removed",
        spec_of(),
        state_of(networks=[obs_net(DEFAULT)]),
        (("remove-network", "network.default", "p_default"),),
    ),
    Case(
        "state absent: its network is not needed",
        spec_of(ctr("web", state="absent")),
        state_of(networks=[obs_net(DEFAULT)]),
        (("remove-network", "network.default", "p_default"),),
    ),
    Case(
        "declared but unused network: not created",
        spec_of(WEB, networks=(FRONT,)),
        state_of(networks=[obs_net(DEFAULT)]),
        (("unchanged", "network.default", "p_default"),),
    ),
    Case(
        "a kept (--no-prune) container keeps its network",
        spec_of(WEB_FRONT, networks=(FRONT,)),
        state_of(
            networks=[obs_net(FRONT), obs_net(DEFAULT)],
            containers=[obs_ctr(spec_of(ctr("old")), ctr("old"))],
        ),
        (("unchanged", "network.front", "p_front"),),
    ),
    Case(
        "network name taken by a network the project does not own",
        spec_of(WEB),
        state_of(other_networks=[ObservedNetwork("x", "p_default")]),
        (),
        error="network name p_default is taken by a network this project does not own",
    ),
    Case(
        "project-labelled network without the kind label is not ours",
        spec_of(WEB),
        state_of(networks=[ObservedNetwork("x", "p_default", labels={LABEL_PROJECT: P})]),
        (),
        error="network name p_default is taken",
    ),
    Case(
        "external network and volume present: used, never created",
        spec_of(WEB_EXT, networks=(EXT_NET,), volumes=(EXT_VOL,)),
        state_of(
            other_networks=[ObservedNetwork("x", "shared")],
            other_volumes=[ObservedVolume("keep")],
        ),
        (
            ("unchanged", "network.shared", "shared"),
            ("unchanged", "volume.keep", "keep"),
        ),
    ),
    Case(
        "external network missing",
        spec_of(WEB_EXT, networks=(EXT_NET,), volumes=(EXT_VOL,)),
        state_of(other_volumes=[ObservedVolume("keep")]),
        (("unchanged", "volume.keep", "keep"),),
        error="external network shared does not exist",
    ),
    Case(
        "external volume missing",
        spec_of(WEB_EXT, networks=(EXT_NET,), volumes=(EXT_VOL,)),
        state_of(other_networks=[ObservedNetwork("x", "shared")]),
        (("unchanged", "network.shared", "shared"),),
        error="external volume keep does not exist",
    ),
    Case(
        "external network of the project's own labels is never removed",
        spec_of(WEB_EXT, networks=(EXT_NET,), volumes=(EXT_VOL,)),
        state_of(
            networks=[obs_net(net("shared", name="shared"))],
            other_volumes=[ObservedVolume("keep")],
        ),
        (
            ("unchanged", "network.shared", "shared"),
            ("unchanged", "volume.keep", "keep"),
        ),
    ),
    Case(
        "named volume created before its container",
        spec_of(WEB_DATA, volumes=(DATA,)),
        state_of(networks=[obs_net(DEFAULT)]),
        (
            ("unchanged", "network.default", "p_default"),
            ("create-volume", "volume.data", "p_data"),
        ),
    ),
    Case(
        "named volume up to date",
        spec_of(WEB_DATA, volumes=(DATA,)),
        state_of(networks=[obs_net(DEFAULT)], volumes=[obs_vol(DATA)]),
        (
            ("unchanged", "network.default", "p_default"),
            ("unchanged", "volume.data", "p_data"),
        ),
    ),
    Case(
        "changed volume definition refused",
        spec_of(WEB_DATA, volumes=(DATA,)),
        state_of(networks=[obs_net(DEFAULT)], volumes=[obs_vol(DATA, driver_opts={})]),
        (
            ("unchanged", "network.default", "p_default"),
            ("unchanged", "volume.data", "p_data"),
        ),
        error="volume p_data exists with another definition (driver_opts.device",
    ),
    Case(
        "volume no longer used or declared: kept (never removed by apply)",
        spec_of(WEB),
        state_of(networks=[obs_net(DEFAULT)], volumes=[obs_vol(DATA)]),
        (("unchanged", "network.default", "p_default"),),
    ),
    Case(
        "undeclared volume created implicitly under its own name",
        spec_of(WEB_LOOSE),
        state_of(networks=[obs_net(DEFAULT)]),
        (
            ("unchanged", "network.default", "p_default"),
            ("create-volume", "volume.loose", "loose"),
        ),
    ),
    Case(
        "undeclared volume that exists: used as it is",
        spec_of(WEB_LOOSE),
        state_of(networks=[obs_net(DEFAULT)], other_volumes=[ObservedVolume("loose")]),
        (
            ("unchanged", "network.default", "p_default"),
            ("unchanged", "volume.loose", "loose"),
        ),
    ),
    Case(
        "declared volume name exists, not ours: used with a warning",
        spec_of(WEB_DATA, volumes=(DATA,)),
        state_of(networks=[obs_net(DEFAULT)], other_volumes=[ObservedVolume("p_data")]),
        (
            ("unchanged", "network.default", "p_default"),
            ("unchanged", "volume.data", "p_data"),
        ),
        warning="volume p_data already exists but was not created by this project",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan_table(case: Case):
    result = plan(case.spec, case.state, PlanOptions(prune=False))
    assert tuple(resource_changes(result)) == case.expected
    messages = [p.message for p in result.errors]
    if case.error:
        assert any(case.error in m for m in messages), messages
    else:
        assert messages == []
    if case.warning:
        assert any(case.warning in w for w in result.warnings), result.warnings


def test_network_and_volume_changes_come_before_containers_and_removals_after():
    spec = spec_of(WEB_DATA, volumes=(DATA,))
    result = plan(spec, state_of(networks=[obs_net(FRONT)]))
    order = [c.address for c in result.changes if c.target.kind != "image"]
    assert order == ["network.default", "volume.data", "container.web[1]", "network.front"]
    create = next(c for c in result.changes if c.address == "container.web[1]")
    assert {"network.default", "volume.data"} <= set(create.depends_on)
    removal = result.changes[-1]
    assert removal.action is Action.REMOVE
    assert removal.depends_on == ("container.web",)


def test_changed_network_shows_field_diffs_and_keeps_the_containers():
    spec = spec_of(WEB_FRONT, networks=(FRONT,))
    observed = obs_ctr(spec, WEB_FRONT)
    result = plan(
        spec, state_of(networks=[obs_net(FRONT, subnet="10.9.0.0/24")], containers=[observed])
    )
    change = next(c for c in result.changes if c.target.kind == "network")
    assert change.action is Action.REPLACE
    assert [(d.path, d.before, d.after) for d in change.diffs] == [("subnet", "10.9.0.0/24", None)]
    container = next(c for c in result.changes if c.target.kind == "container")
    assert container.action is Action.UNCHANGED  # reconnected by the network change, not replaced
    assert "network.front" in container.depends_on


def test_a_renamed_volume_means_a_new_mount_for_its_container():
    before = spec_of(WEB_DATA, volumes=(DATA,))
    after = spec_of(
        WEB_DATA, volumes=(vol("data", name="elsewhere", driver_opts=DATA.driver_opts),)
    )
    result = plan(
        after, state_of(containers=[obs_ctr(before, WEB_DATA)], networks=[obs_net(DEFAULT)])
    )
    container = next(c for c in result.changes if c.target.kind == "container")
    assert container.action is Action.REPLACE
    assert "volumes" in container.reason


def test_an_unchanged_spec_plans_nothing_for_networks_and_volumes():
    spec = spec_of(WEB_DATA, WEB_FRONT.__class__(key="api", image=IMG), volumes=(DATA,))
    state = state_of(
        containers=[obs_ctr(spec, c, i) for i, c in enumerate(spec.containers.values(), 1)],
        networks=[obs_net(DEFAULT)],
        volumes=[obs_vol(DATA)],
    )
    assert not plan(spec, state).has_changes


# --- destroy ------------------------------------------------------------------------------------


def test_destroy_removes_own_networks_and_only_with_volumes_own_volumes():
    spec = spec_of(WEB_DATA, volumes=(DATA,))
    foreign_labelled = ObservedVolume("p_ext", labels={LABEL_PROJECT: P})  # no kind label
    state = state_of(
        containers=[obs_ctr(spec, WEB_DATA)],
        networks=[obs_net(DEFAULT), obs_net(net("shared", name="shared"))],
        volumes=[obs_vol(DATA), foreign_labelled],
    )
    keep = frozenset({"shared"})
    plain = plan_destroy(P, state, DestroyOptions(keep=keep))
    assert [(c.name, c.target.name) for c in plain.changes] == [
        ("remove", "p-web-1"),
        ("remove-network", "p_default"),
    ]
    assert plain.changes[1].depends_on == ("container.web",)
    full = plan_destroy(P, state, DestroyOptions(volumes=True, keep=keep))
    assert [(c.name, c.target.name) for c in full.changes][1:] == [
        ("remove-network", "p_default"),
        ("remove-volume", "p_data"),
    ]
