"""Planning of images the project makes itself (build and commit). Pure; called by planner.

An image is (re)made when it is missing locally; the source-hash comparison (rebuild only on
change) lives here too.
"""

from __future__ import annotations

from reconciler.errors import Problem
from reconciler.plan import Action, Change, Target
from reconciler.spec import ImageSpec, Spec
from reconciler.state import State


def plan_built_image(spec: Spec, image: ImageSpec, state: State, errors: list[Problem]) -> Change:
    target = Target("image", image.key, None, image.reference)
    action = Action.BUILD if image.kind == "build" else Action.COMMIT
    deps: tuple[str, ...] = ()
    if image.commit is not None and image.commit.base in spec.images:
        deps = (Target("image", image.commit.base).address,)
    present = state.image_id(image.reference)
    after = {"reference": image.reference, "kind": image.kind}
    if present:
        before = {"reference": image.reference, "id": present}
        return Change(Action.UNCHANGED, target, "present", before=before, after=after)
    return Change(action, target, "missing locally", after=after, depends_on=deps)
