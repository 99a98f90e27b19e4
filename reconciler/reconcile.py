"""One reconcile pass: observe -> plan -> annotate -> execute, like controller-runtime's
`Reconcile(ctx, Request)`. `apply_pass` serves apply and watch; `destroy_pass` serves destroy.

Level-triggered: every pass re-reads the whole engine state for the project under the
project's lock; nothing is carried over from earlier passes except what the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from reconciler.errors import EngineError, NotFound, PlanError
from reconciler.execute.context import EventFn, ExecOptions
from reconciler.execute.outcome import Outcome, Status
from reconciler.lock import project_lock
from reconciler.model.build import BuildSource
from reconciler.model.plan import Action, Change, Plan
from reconciler.model.registry import RemoteDigest
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.plan.image_removals import pulled_references
from reconciler.plan.images import always_references
from reconciler.plan.planner import DestroyOptions, PlanOptions, plan, plan_destroy

DIFF_PATHS_SHOWN = 5

AdjustFn = Callable[[Plan, State], Plan]


class PassResult(Struct, frozen=True):
    """The plan one pass ran and its outcomes: returned by `apply_pass` and `destroy_pass`."""

    plan: Plan
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.FAILED)

    @property
    def changed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.DONE)


def make_plan(spec: Spec, engine: Any, options: PlanOptions = PlanOptions()) -> tuple[Plan, State]:
    """Read the build contexts (source hashes, cached by stat), observe the engine and plan;
    replacements get a warning when `docker diff` shows changes made inside the container
    that the replacement would discard."""
    sources = build_sources(spec)
    remote = registry_digests(spec, engine)
    state = observe(engine, spec.project, spec.target == "swarm")
    result = plan(spec, state, options, sources=sources, remote=remote)
    if spec.warnings:
        warned = tuple(p.render() for p in spec.warnings)
        result = replace(result, warnings=(*warned, *result.warnings))
    return annotate(result, engine), state


def build_sources(spec: Spec) -> dict[str, BuildSource]:
    """Each built image's context digest (buildctx/context.py, cached by stat). A spec
    without builds needs none of the build-context code: it is imported only for builds."""
    if not any(image.build is not None for image in spec.images.values()):
        return {}
    from reconciler.buildctx.context import build_sources as read  # lazy seam: builds only

    return read(spec)


def observe(engine: Any, project: str, swarm: bool = False) -> State:
    """The project's state; with `swarm` (target swarm), its services, tasks and nodes too."""
    state = engine.observe(project)
    if swarm:
        state = replace(state, swarm=engine.observe_swarm(project))
    return state


def registry_digests(spec: Spec, engine: Any) -> dict[str, RemoteDigest]:
    """The registry's current digest of each `policy: always` image (one distribution inspect
    each, nothing pulled); an unreachable registry is recorded, not raised."""
    found = {}
    for reference in always_references(spec):
        try:
            found[reference] = RemoteDigest(digest=engine.registry_digest(reference) or None)
        except EngineError as exc:
            found[reference] = RemoteDigest(error=_first_line(str(exc)))
    return found


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no answer"


def annotate(result: Plan, engine: Any) -> Plan:
    changes = []
    for change in result.changes:
        if change.action is Action.REPLACE and change.container_id:
            change = _with_diff_warning(change, engine)
        changes.append(change)
    return replace(result, changes=tuple(changes))


def _with_diff_warning(change: Change, engine: Any) -> Change:
    try:
        count, paths = engine.changed_paths(change.container_id, DIFF_PATHS_SHOWN)
    except (NotFound, EngineError):
        return change
    if not count:
        return change
    more = f" and {count - len(paths)} more" if count > len(paths) else ""
    warning = (
        f"{change.target.name}: replacing discards {count} change(s) made inside the "
        f"container's filesystem: {', '.join(paths)}{more} (use a volume to keep data)"
    )
    return replace(change, warnings=(*change.warnings, warning))


def apply_pass(
    spec: Spec,
    engine: Any,
    plan_options: PlanOptions = PlanOptions(),
    exec_options: ExecOptions = ExecOptions(),
    on_event: EventFn | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    adjust: AdjustFn | None = None,
) -> PassResult:
    """Plan and execute once. Plan errors raise PlanError before any action. `adjust(plan,
    state) -> plan` may hold changes back before execution (watch turns the START of a
    crash-looping container into UNCHANGED); the planner stays pure.

    Reading needs no lock: a plan with nothing to change (the common no-op) ends without
    taking the project's lease, so it writes nothing to the engine and needs no Docker SDK.
    A plan with changes takes the lease and plans again under it, so what runs is decided on
    the state no other process is changing."""
    result, state = make_plan(spec, engine, plan_options)
    if result.errors:
        raise PlanError(list(result.errors))
    if not result.has_changes:
        return _run(spec, engine, result, state, exec_options, on_event, on_plan, adjust)
    with project_lock(spec.project, engine):
        result, state = make_plan(spec, engine, plan_options)
        return _run(spec, engine, result, state, exec_options, on_event, on_plan, adjust)


def _run(
    spec: Spec,
    engine: Any,
    result: Plan,
    state: State,
    exec_options: ExecOptions,
    on_event: EventFn | None,
    on_plan: Callable[[Plan], None] | None,
    adjust: AdjustFn | None,
) -> PassResult:
    if result.errors:
        raise PlanError(list(result.errors))
    if adjust is not None:
        result = adjust(result, state)
        if result.errors:  # e.g. plan/select.py: a name not in the spec
            raise PlanError(list(result.errors))
    if on_plan is not None:
        on_plan(result)
    return PassResult(result, _execute(result, engine, spec.project, exec_options, on_event, spec))


def _execute(
    result: Plan,
    engine: Any,
    project: str,
    exec_options: ExecOptions,
    on_event: EventFn | None,
    spec: Spec | None,
) -> tuple[Outcome, ...]:
    """The executor's outcomes. A plan with nothing to do (the common no-op) needs no
    executor: the scheduler, its handlers and thread pool are imported only for real work."""
    if not result.has_changes:
        return tuple(Outcome.unchanged(change) for change in result.changes)
    from reconciler.execute.scheduler import Executor  # lazy seam: only when there is work

    return tuple(Executor(engine, project, exec_options, on_event, spec).run(result))


def destroy_options(spec: Spec, volumes: bool = False, images: bool = False) -> DestroyOptions:
    """What `destroy` removes besides containers and networks: never the spec's externals."""
    externals = [n.name for n in spec.networks.values() if n.external]
    externals += [v.name for v in spec.volumes.values() if v.external]
    return DestroyOptions(
        volumes=volumes,
        images=images,
        keep=frozenset(externals),
        pulled=tuple(pulled_references(spec)) if images else (),
    )


def destroy_pass(
    spec: Spec,
    engine: Any,
    options: DestroyOptions,
    exec_options: ExecOptions = ExecOptions(),
    on_event: EventFn | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> PassResult:
    """Remove what the project owns (by its labels), under the project's lock."""
    return destroy_project(spec.project, engine, options, exec_options, on_event, on_plan, spec)


def destroy_project(
    project: str,
    engine: Any,
    options: DestroyOptions,
    exec_options: ExecOptions = ExecOptions(),
    on_event: EventFn | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    spec: Spec | None = None,
    swarm: bool = False,
) -> PassResult:
    """`destroy_pass` by the project's name alone (`destroy -p NAME` without a spec, or with a
    spec that is gone or broken): everything it needs is in the labels. Without a spec the
    references its `images:` pulled are unknown, so `--images` removes only what the project
    built or committed (labelled). `swarm` (`destroy -p NAME --target swarm`): its services too,
    as a spec with `target: swarm` says."""
    with project_lock(project, engine):
        swarm = swarm or (spec is not None and spec.target == "swarm")
        result = plan_destroy(project, observe(engine, project, swarm), options)
        if on_plan is not None:
            on_plan(result)
        outcomes = _execute(result, engine, project, exec_options, on_event, spec)
    return PassResult(result, outcomes)
