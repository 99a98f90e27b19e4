"""A container's pull_policy (Compose's, issue 13) for an image reference that no images key
declares: always -> a pull every pass, never -> no pull (absent: a plan error), default and
`if-missing` -> a pull only when absent. Planner only, no Docker."""

from __future__ import annotations

from reconciler.model.plan import Action
from reconciler.model.spec import ContainerSpec, Spec
from reconciler.model.state import ObservedImage, State
from reconciler.plan.images import reference_policy
from reconciler.plan.planner import plan

REF = "localhost:5000/stand-in/busybox:1"
REF_ID = "sha256:" + "a" * 64


def spec_with(*policies: str | None) -> Spec:
    containers = {
        f"c{i}": ContainerSpec(key=f"c{i}", image=REF, pull_policy=p)
        for i, p in enumerate(policies)
    }
    return Spec(project="p", path="/x/spec.yaml", containers=containers)


def pulls(spec: Spec, state: State) -> list:
    return [c for c in plan(spec, state).changes if c.action is Action.PULL]


def test_policy_of_a_reference():
    assert reference_policy(spec_with(None), REF) == "if-missing"
    assert reference_policy(spec_with("never", None), REF) == "if-missing"
    assert reference_policy(spec_with("never", "always"), REF) == "always"
    assert reference_policy(spec_with("never", "never"), REF) == "never"


def test_always_pulls_a_present_image_and_if_missing_does_not():
    present = State("p", images={REF: ObservedImage(id=REF_ID, tags=(REF,))})
    assert len(pulls(spec_with("always"), present)) == 1
    assert pulls(spec_with("if-missing"), present) == []
    assert pulls(spec_with(None), present) == []


def test_never_refuses_an_absent_image():
    result = plan(spec_with("never"), State("p"))
    assert [c for c in result.changes if c.action is Action.PULL] == []
    (error,) = result.errors
    assert "policy is `never`" in error.message and "`pull_policy: if-missing`" in error.message
