"""Issue 15 (4): `policy: always` is decided by the registry's digest, read before planning."""

from __future__ import annotations

from reconciler.model.plan import Action
from reconciler.model.registry import RemoteDigest
from reconciler.model.spec import ContainerSpec, ImageSpec, Spec
from reconciler.model.state import ObservedImage, State
from reconciler.plan.planner import plan

REF = "localhost:5000/app:1"
OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64
ID = "sha256:" + "1" * 64


def spec() -> Spec:
    image = ImageSpec(key="app", kind="pull", reference=REF, policy="always")
    web = ContainerSpec(key="web", image="app")
    return Spec(project="p", path="/s.yaml", images={"app": image}, containers={"web": web})


def state() -> State:
    local = ObservedImage(id=ID, tags=(REF,), digests=(f"localhost:5000/app@{OLD}",))
    return State(project="p", images={REF: local})


def pull_of(result):
    (change,) = [c for c in result.changes if c.target.kind == "image"]
    return change


def test_same_digest_is_unchanged():
    result = plan(spec(), state(), remote={REF: RemoteDigest(digest=OLD)})
    assert pull_of(result).action is Action.UNCHANGED


def test_new_digest_pulls():
    result = plan(spec(), state(), remote={REF: RemoteDigest(digest=NEW)})
    assert pull_of(result).action is Action.PULL
    assert pull_of(result).reason == "policy always: the registry has bbbbbbbbbbbb"


def test_unreachable_registry_is_unchanged_with_one_warning():
    result = plan(spec(), state(), remote={REF: RemoteDigest(error="connection refused")})
    assert pull_of(result).action is Action.UNCHANGED
    assert result.warnings == (
        f"image {REF}: the registry cannot be reached, the local image is kept "
        "(connection refused)",
    )


def test_without_digests_always_pulls_as_before():
    assert pull_of(plan(spec(), state())).action is Action.PULL
