"""plan/select.py: a subset of a plan (apply/pull/build SPEC NAME...) is a filter on the full
plan: the named containers, what they depend on (pending or not), nothing else; unknown names
are plan errors; `force` makes present images again for pull and build --no-cache."""

from __future__ import annotations

from reconciler.model.plan import Action, ImageIntent, Reason
from reconciler.model.spec import BuildSpec, Dependency, ImageSpec
from reconciler.plan.planner import plan
from reconciler.plan.select import force, forced_actions, keep_actions, only_images, select
from tests.unit.plan.test_planner import ID1, IMG, Obs, ctr, make_spec, make_state

BUILT = "p/app:latest"


def three():
    """db <- web (depends_on db), and an unrelated `other`; web runs a built image."""
    db = ctr("db")
    web = ctr("web", image="app", depends_on=(Dependency("db"),))
    other = ctr("other")
    images = {"app": ImageSpec("app", "build", BUILT, build=BuildSpec(context="/ctx"))}
    return make_spec(db, web, other, images=images), (db, web, other)


def addresses(p) -> list[str]:
    return [c.address for c in p.changes]


def test_select_keeps_the_named_container_and_what_it_needs():
    spec, _ = three()
    full = plan(spec, make_state(images={IMG: ID1}))
    chosen = select(full, ["web"], spec)
    assert addresses(chosen) == [a for a in addresses(full) if a != "container.other[1]"]
    assert not chosen.errors


def test_select_accepts_container_names_and_keeps_plan_order():
    spec, _ = three()
    full = plan(spec, make_state(images={IMG: ID1}))
    name = next(c.target.name for c in full.changes if c.address == "container.db[1]")
    chosen = select(full, [name], spec)
    assert addresses(chosen) == [a for a in addresses(full) if a in addresses(chosen)]
    assert "container.db[1]" in addresses(chosen)
    assert f"image.{IMG}" in addresses(chosen)
    assert not {"container.web[1]", "container.other[1]", "image.app"} & set(addresses(chosen))


def test_select_keeps_an_up_to_date_image_of_a_named_container_with_the_spec():
    spec, (db, _web, other) = three()
    state = make_state(Obs(db), Obs(other), images={IMG: ID1, BUILT: ID1})
    full = plan(spec, state)
    image = next(c for c in full.changes if c.address == "image.app")
    assert image.action is Action.UNCHANGED  # so no depends_on edge leads to it
    assert "image.app" in addresses(select(full, ["web"], spec))
    assert "image.app" not in addresses(select(full, ["web"]))  # the plan alone cannot know


def test_an_unknown_name_is_a_plan_error_and_nothing_is_kept():
    spec, _ = three()
    chosen = select(plan(spec, make_state()), ["web", "nope"], spec)
    assert chosen.changes == ()
    assert [p.message for p in chosen.errors] == ["no container 'nope' in the spec"]
    assert "db, other, web" in (chosen.errors[0].hint or "")


def test_select_never_keeps_removals_of_other_keys():
    spec, (db, _web, _other) = three()
    gone = ctr("gone")
    state = make_state(Obs(db), Obs(gone), images={IMG: ID1})
    full = plan(spec, state)
    assert any(c.action is Action.REMOVE for c in full.changes)
    assert all(c.action is not Action.REMOVE for c in select(full, ["db"], spec).changes)


def test_force_builds_a_present_image_without_cache_and_pulls_present_ones():
    spec, (db, _web, other) = three()
    state = make_state(Obs(db), Obs(other), images={IMG: ID1, BUILT: ID1})
    images = only_images(plan(spec, state))
    assert {c.action for c in images.changes} == {Action.UNCHANGED}
    built = force(images, forced_actions(spec, images, Action.BUILD), no_cache=True)
    change = next(c for c in built.changes if c.address == "image.app")
    assert change.action is Action.BUILD and change.cause is Reason.CHANGED
    assert change.intent_as(ImageIntent).no_cache
    pulled = force(images, forced_actions(spec, images, Action.PULL))
    kept = keep_actions(pulled, (Action.PULL,))
    assert [(c.address, c.action) for c in kept.actionable] == [(f"image.{IMG}", Action.PULL)]


def test_policy_never_is_not_pulled_by_pull():
    spec, _ = three()
    never = ImageSpec("base", "pull", "reg.local/base:1", policy="never")
    spec = make_spec(ctr("db", image="base"), images={"base": never})
    images = only_images(plan(spec, make_state(images={"reg.local/base:1": ID1})))
    assert forced_actions(spec, images, Action.PULL) == {}
