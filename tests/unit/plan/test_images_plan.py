"""Image planning without Docker: tables of (spec images, observed images, build sources) ->
the image changes, their reasons and dependencies; removals and `destroy --images`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from reconciler.model.build import BuildSource
from reconciler.model.config import container_config
from reconciler.model.labels import (
    LABEL_BASES,
    LABEL_MANIFEST,
    LABEL_REFERENCE,
    LABEL_SOURCE_HASH,
    canonical_json,
    config_hash,
    encode_manifest,
    ownership_labels,
)
from reconciler.model.plan import Action, ImageRemovalIntent
from reconciler.model.spec import (
    BuildSpec,
    CommitChanges,
    CommitSpec,
    ContainerSpec,
    ImageSpec,
    Spec,
)
from reconciler.model.state import ObservedContainer, ObservedImage, State
from reconciler.plan.images import commit_inputs, commit_source_hash
from reconciler.plan.planner import DestroyOptions, PlanOptions, plan, plan_destroy

P = "p"
BASE = "stand-in/busybox:latest"
BASE_ID = "sha256:" + "b" * 64
OLD_ID = "sha256:" + "0" * 64
NEW_ID = "sha256:" + "9" * 64
REG = "reg.local/app:1"
REG_ID = "sha256:" + "r" * 64


def build_image(key="web", **kw) -> ImageSpec:
    return ImageSpec(key, "build", f"{P}/{key}:latest", build=BuildSpec(context="/ctx", **kw))


def commit_image(key="tool", base=BASE, run=("echo hi",), **changes) -> ImageSpec:
    recipe = CommitSpec(base=base, run=tuple(run), changes=CommitChanges(**changes))
    return ImageSpec(key, "commit", f"{P}/{key}:latest", commit=recipe)


def pull_image(key="app", ref=REG, policy="if-missing") -> ImageSpec:
    return ImageSpec(key, "pull", ref, policy=policy)


def source(files=None, bases=(BASE,), args="a0", error=None) -> BuildSource:
    files = {"Dockerfile": "d1", "site/index.html": "i1"} if files is None else files
    inputs = {"dockerfile": "df", "dockerfile_path": "Dockerfile", "args": args}
    inputs.update(target="", labels="l0")
    digest = "h-" + canonical_json([files, inputs])
    return BuildSource(digest, files, inputs, tuple(bases), error)


def built(
    image: ImageSpec, src: BuildSource, image_id=OLD_ID, bases=None, tags=None
) -> ObservedImage:
    """An image the project built from `src` (labels as images_exec writes them)."""
    labels = {
        **ownership_labels(P, image.key, "image"),
        LABEL_SOURCE_HASH: src.hash,
        LABEL_MANIFEST: encode_manifest({"files": dict(src.manifest), "inputs": dict(src.inputs)}),
        LABEL_BASES: canonical_json(bases if bases is not None else {BASE: BASE_ID}),
        LABEL_REFERENCE: image.reference,
    }
    return ObservedImage(image_id, (image.reference,) if tags is None else tags, labels)


def committed(image: ImageSpec, base_id=BASE_ID, image_id=OLD_ID, tags=None) -> ObservedImage:
    assert image.commit is not None
    labels = {
        **ownership_labels(P, image.key, "image"),
        LABEL_SOURCE_HASH: commit_source_hash(base_id, image.commit),
        LABEL_MANIFEST: encode_manifest({"inputs": commit_inputs(image.commit)}),
        LABEL_BASES: canonical_json({image.commit.base: base_id}),
        LABEL_REFERENCE: image.reference,
    }
    return ObservedImage(image_id, (image.reference,) if tags is None else tags, labels)


def ctr(key="c", image="web") -> ContainerSpec:
    return ContainerSpec(key=key, image=image, command=("sleep", "1"))


def running(spec: Spec, c: ContainerSpec, image_id: str, n: int = 1) -> ObservedContainer:
    cfg = container_config(spec, c, 1, image_id)
    return ObservedContainer(
        id=f"{n:02d}".ljust(64, "c"),
        name=cfg["name"],
        project=P,
        key=c.key,
        replica=1,
        status="running",
        image=cfg["image"],
        image_id=image_id,
        config_hash=config_hash(cfg),
        config=json.loads(canonical_json(cfg)),
    )


@dataclass
class World:
    images: list[ImageSpec] = field(default_factory=list)
    containers: list[ContainerSpec] = field(default_factory=list)
    present: list[ObservedImage] = field(default_factory=list)  # besides the base
    running: list[tuple[ContainerSpec, str]] = field(default_factory=list)  # (spec, image id)
    foreign_users: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sources: dict[str, BuildSource] = field(default_factory=dict)

    def spec(self) -> Spec:
        return Spec(
            project=P,
            path="/spec.yaml",
            images={i.key: i for i in self.images},
            containers={c.key: c for c in self.containers},
        )

    def state(self) -> State:
        spec = self.spec()
        observed = [running(spec, c, i, n) for n, (c, i) in enumerate(self.running, 1)]
        refs: dict[str, ObservedImage] = {BASE: ObservedImage(BASE_ID, (BASE,))}
        for image in self.present:
            for tag in image.tags:
                refs[tag] = image
        users: dict[str, list[str]] = {}
        for oc in observed:
            users.setdefault(oc.image_id, []).append(oc.name)
        for image_id, names in self.foreign_users.items():
            users.setdefault(image_id, []).extend(names)
        return State(
            project=P,
            containers=tuple(observed),
            images=refs,
            project_images=tuple(
                i for i in self.present if i.labels.get("io.reconciler.project") == P
            ),
            image_users={k: tuple(sorted(v)) for k, v in users.items()},
        )

    def plan(self, **options: Any):
        return plan(self.spec(), self.state(), PlanOptions(**options), sources=self.sources)


def image_changes(result) -> list[tuple[str, str, str]]:
    """Pulls, builds and commits (removals are tested on their own below)."""
    return [
        (c.name, c.address, c.reason)
        for c in result.changes
        if c.target.kind == "image" and c.action is not Action.REMOVE
    ]


WEB = build_image()
SRC = source()


@dataclass(frozen=True)
class Case:
    id: str
    world: World
    expected: list[tuple[str, str, str]]  # (action, address, reason fragment), image changes


CASES = [
    Case(
        "build: missing",
        World([WEB], sources={"web": SRC}),
        [("build", "image.web", "missing locally")],
    ),
    Case(
        "build: up to date",
        World([WEB], present=[built(WEB, SRC)], sources={"web": SRC}),
        [("unchanged", "image.web", "up to date")],
    ),
    Case(
        "build: a context file changed",
        World(
            [WEB],
            present=[built(WEB, SRC)],
            sources={"web": source({"Dockerfile": "d1", "site/index.html": "i2"})},
        ),
        [("build", "image.web", "source changed: site/index.html")],
    ),
    Case(
        "build: files added and removed, more than three",
        World(
            [WEB],
            present=[built(WEB, SRC)],
            sources={"web": source({"Dockerfile": "d1", "a": "1", "b": "1", "c": "1"})},
        ),
        [("build", "image.web", "source changed: a, b, c and 1 more")],
    ),
    Case(
        "build: a build arg changed",
        World([WEB], present=[built(WEB, SRC)], sources={"web": source(args="a1")}),
        [("build", "image.web", "build args changed")],
    ),
    Case(
        "build: an image without our source hash is rebuilt",
        World([WEB], present=[ObservedImage(OLD_ID, (WEB.reference,))], sources={"web": SRC}),
        [("build", "image.web", "no source hash")],
    ),
    Case(
        "build: the FROM image changed ID",
        World(
            [WEB],
            present=[built(WEB, SRC, bases={BASE: "sha256:" + "e" * 64})],
            sources={"web": SRC},
        ),
        [("build", "image.web", f"base image changed: {BASE}")],
    ),
    Case(
        "build: not checked without sources",
        World([WEB], present=[built(WEB, SRC)], sources=None),  # type: ignore[arg-type]
        [("unchanged", "image.web", "source not checked")],
    ),
    Case(
        "pull: policies",
        World(
            [pull_image("a", "r/a:1"), pull_image("b", "r/b:1", "always"), pull_image("c", BASE)]
        ),
        [
            ("pull", "image.a", "missing locally"),
            ("pull", "image.b", "policy always"),
            ("unchanged", "image.c", "present"),
        ],
    ),
    Case(
        "commit: missing, with its raw base present",
        World([commit_image()]),
        [("unchanged", f"image.{BASE}", "present"), ("commit", "image.tool", "missing locally")],
    ),
    Case(
        "commit: up to date",
        World([commit_image()], present=[committed(commit_image())]),
        [("unchanged", f"image.{BASE}", "present"), ("unchanged", "image.tool", "up to date")],
    ),
    Case(
        "commit: steps changed",
        World([commit_image(run=("echo other",))], present=[committed(commit_image())]),
        [
            ("unchanged", f"image.{BASE}", "present"),
            ("commit", "image.tool", "recipe changed: run"),
        ],
    ),
    Case(
        "commit: changes changed",
        World([commit_image(workdir="/app")], present=[committed(commit_image())]),
        [
            ("unchanged", f"image.{BASE}", "present"),
            ("commit", "image.tool", "recipe changed: changes"),
        ],
    ),
    Case(
        "commit: the base image changed ID",
        World([commit_image()], present=[committed(commit_image(), base_id="sha256:" + "e" * 64)]),
        [("unchanged", f"image.{BASE}", "present"), ("commit", "image.tool", "base image changed")],
    ),
    Case(
        "commit: the base is pulled first (policy always): conditional",
        World(
            [pull_image("app", REG, "always"), commit_image(base="app")],
            present=[ObservedImage(REG_ID, (REG,)), committed(commit_image(base="app"), REG_ID)],
        ),
        [
            ("pull", "image.app", "policy always"),
            ("commit", "image.tool", "recommitted only if its ID changes"),
        ],
    ),
    Case(
        "commit: a missing raw base is pulled first",
        World([commit_image(base="r/base:1")]),
        [("pull", "image.r/base:1", "missing locally"), ("commit", "image.tool", "missing")],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_image_plan_table(case: Case):
    result = case.world.plan()
    assert result.errors == ()
    got = image_changes(result)
    assert [(a, addr) for a, addr, _ in got] == [(a, addr) for a, addr, _ in case.expected]
    for (_, _, reason), (_, _, fragment) in zip(got, case.expected, strict=True):
        assert fragment in reason


def test_build_from_another_image_of_the_spec_waits_for_it_and_is_conditional():
    base = build_image("base")
    app_src = source(bases=(base.reference,))
    world = World(
        [build_image("app"), base],  # the spec order does not matter
        present=[
            built(build_image("app"), app_src, NEW_ID, bases={base.reference: OLD_ID}),
            built(base, SRC, OLD_ID),
        ],
        sources={"app": app_src, "base": source(args="changed")},
    )
    result = world.plan()
    builds = {c.target.key: c for c in result.changes if c.action is Action.BUILD}
    assert list(builds) == ["base", "app"]  # bases first
    app = builds["app"]
    assert app.depends_on == ("image.base",)
    assert app.conditional and "rebuilt only if its ID changes" in app.reason
    assert app.intent.current_hash == app_src.hash
    assert builds["base"].reason == "build args changed"


def test_build_from_a_missing_image_pulls_it_on_demand():
    world = World([WEB], sources={"web": source(bases=("nowhere/x:1",))})
    plan = world.plan()
    assert not plan.errors
    (change,) = [c for c in plan.changes if c.target.key == "web"]
    assert change.action is Action.BUILD
    assert "FROM nowhere/x:1 pulled on demand" in change.reason


def test_a_syntax_directive_is_ignored_with_a_warning():
    src = BuildSource(hash="h", bases=("stand-in/busybox:latest",), syntax="docker/dockerfile:1")
    plan = World([WEB], sources={"web": src}).plan()
    (change,) = [c for c in plan.changes if c.target.key == "web"]
    assert change.action is Action.BUILD
    assert any("syntax=docker/dockerfile:1" in w and "never fetches" in w for w in change.warnings)


def test_unreadable_context_is_a_plan_error():
    world = World([WEB], sources={"web": BuildSource(error="cannot read the build context: x")})
    (problem,) = world.plan().errors
    assert problem.path == "images.web.build" and "cannot read" in problem.message


def test_never_policy_with_missing_image_is_a_plan_error():
    world = World([pull_image("app", "r/app:1", "never")])
    (problem,) = world.plan().errors
    assert problem.path == "images.app.policy" and "r/app:1" in problem.message


def test_pending_build_makes_its_containers_conditional():
    c = ctr("c", "web")
    world = World(
        [WEB],
        [c],
        present=[built(WEB, SRC)],
        running=[(c, OLD_ID)],
        sources={"web": source(args="new")},
    )
    result = world.plan()
    (replace,) = [x for x in result.changes if x.target.kind == "container"]
    assert replace.action is Action.REPLACE and replace.conditional
    assert "image.web" in replace.depends_on


# --- removals ------------------------------------------------------------------------------------


def removals(result):
    return [c for c in result.changes if c.action is Action.REMOVE and c.target.kind == "image"]


def test_image_that_left_the_spec_is_removed_after_its_containers():
    c = ctr("c", "web")
    old = built(WEB, SRC)
    world = World([], [], present=[old], running=[(c, OLD_ID)])
    result = world.plan()
    (remove_ctr,) = [
        x for x in result.changes if x.action is Action.REMOVE and x.target.kind == "container"
    ]
    (remove_img,) = removals(result)
    assert remove_ctr.address == "container.c[1]"
    assert remove_img.address == f"image.web@{'0' * 12}"
    assert remove_img.reason == "no longer in the spec"
    assert remove_img.depends_on == ("container.c",)
    assert remove_img.intent.image_id == OLD_ID
    assert result.changes.index(remove_img) > result.changes.index(remove_ctr)


def test_image_used_by_a_container_the_project_does_not_own_is_kept_with_a_warning():
    world = World([], [], present=[built(WEB, SRC)], foreign_users={OLD_ID: ("theirs",)})
    result = world.plan()
    assert removals(result) == []
    assert any("kept" in w and "theirs" in w for w in result.warnings)
    assert not result.has_changes


def test_no_prune_keeps_images_that_left_the_spec():
    result = World([], [], present=[built(WEB, SRC)]).plan(prune=False)
    assert removals(result) == [] and "--no-prune" in result.warnings[0]


def test_rebuild_supersedes_the_old_image_after_the_replacements():
    c = ctr("c", "web")
    world = World(
        [WEB],
        [c],
        present=[built(WEB, SRC)],
        running=[(c, OLD_ID)],
        sources={"web": source(args="new")},
    )
    (remove,) = removals(world.plan())
    assert remove.reason == "superseded by the new build"
    assert set(remove.depends_on) == {"image.web", "container.c"}
    assert remove.intent.superseded is True


def test_untagged_leftovers_are_removed_and_images_tagged_by_others_are_not_touched():
    leftover = built(WEB, SRC, "sha256:" + "5" * 64, tags=())
    child = built(WEB, SRC, "sha256:" + "6" * 64, tags=("someone/else:1",))  # inherited labels
    world = World([WEB], [], present=[built(WEB, SRC), leftover, child], sources={"web": SRC})
    (remove,) = removals(world.plan())
    assert remove.intent.image_id == leftover.id
    assert remove.reason == "untagged leftover of an earlier build"


def test_images_whose_recipes_left_the_spec_go_newest_first():
    from msgspec.structs import replace

    base, tool = build_image("base"), commit_image("tool", base="base")
    older = replace(built(base, SRC, OLD_ID), created=100)
    newer = replace(committed(tool, OLD_ID, NEW_ID), created=200)
    result = World([], [], present=[older, newer]).plan()
    by_id = {c.intent.image_id: c for c in removals(result)}
    assert by_id[NEW_ID].depends_on == ()
    assert by_id[OLD_ID].depends_on == (by_id[NEW_ID].address,)


def test_removal_of_a_base_waits_for_the_removal_of_images_made_from_it():
    base, tool = build_image("base"), commit_image("tool", base="base")
    world = World(
        [base, tool],
        [],
        present=[built(base, SRC, OLD_ID), committed(tool, OLD_ID, NEW_ID)],
        sources={"base": source(args="changed")},
    )
    result = world.plan()
    by_key = {c.target.key.split("@")[0]: c for c in removals(result)}
    assert set(by_key) == {"base", "tool"}
    assert by_key["tool"].address in by_key["base"].depends_on  # the child goes first
    commit = next(c for c in result.changes if c.action is Action.COMMIT)
    assert commit.conditional and commit.depends_on == ("image.base",)


# --- destroy --images ----------------------------------------------------------------------------


def test_destroy_images_removes_own_images_and_untags_unused_pulls():
    c = ctr("c", "tool")
    tool = commit_image()
    world = World(
        [tool, pull_image("app", REG)],
        [c],
        present=[committed(tool, image_id=NEW_ID), ObservedImage(REG_ID, (REG,))],
        running=[(c, NEW_ID)],
    )
    state = world.state()
    result = plan_destroy(P, state, DestroyOptions(images=True, pulled=(REG, "r/absent:1")))
    actions = [(str(x.action), x.address) for x in result.changes]
    assert actions[0] == ("remove", "container.c[1]")
    own = next(x for x in result.changes if x.address == f"image.tool@{'9' * 12}")
    assert own.depends_on == ("container.c",)
    pulled = next(x for x in result.changes if x.address == f"image.{REG}")
    assert pulled.intent == ImageRemovalIntent(REG_ID, untag=REG)
    assert own.address in pulled.depends_on
    assert not any("r/absent" in a for _, a in actions)


def test_destroy_images_removes_newest_first_one_after_the_other():
    from msgspec.structs import replace

    base, tool = build_image("base"), commit_image("tool", base="base")
    older = replace(built(base, SRC, OLD_ID), created=100)
    newer = replace(committed(tool, OLD_ID, NEW_ID), created=200)
    world = World([], [], present=[older, newer])
    first, second = removals(plan_destroy(P, world.state(), DestroyOptions(images=True)))
    assert first.intent.image_id == NEW_ID  # the child (newer) goes first
    assert second.depends_on == (first.address,)


def test_destroy_images_keeps_a_pull_another_container_uses():
    world = World(
        [pull_image("app", REG)],
        present=[ObservedImage(REG_ID, (REG,))],
        foreign_users={REG_ID: ("theirs",)},
    )
    result = plan_destroy(P, world.state(), DestroyOptions(images=True, pulled=(REG,)))
    assert removals(result) == []
    assert "theirs" in result.warnings[0]


def test_destroy_without_images_touches_no_image():
    world = World([], [], present=[built(WEB, SRC)])
    assert removals(plan_destroy(P, world.state(), DestroyOptions())) == []
