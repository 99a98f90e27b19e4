"""One reconcile pass: observe -> plan -> annotate -> execute. Shared by apply and watch.

Level-triggered: every pass re-reads the whole engine state for the project; nothing is
carried over from earlier passes except what the caller passes in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.errors import EngineError, NotFound, PlanError
from reconciler.execute.scheduler import EventFn, ExecOptions, Executor, Outcome
from reconciler.model.plan import Action, Change, Plan
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.plan.containers import PlanOptions, plan

DIFF_PATHS_SHOWN = 5


@dataclass(frozen=True)
class PassResult:
    plan: Plan
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def changed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "done")


def make_plan(spec: Spec, engine, options: PlanOptions = PlanOptions()) -> tuple[Plan, State]:
    """Read the build contexts (source hashes, cached by stat), observe the engine and plan;
    replacements get a warning when `docker diff` shows changes made inside the container
    that the replacement would discard."""
    from reconciler.buildctx.context import build_sources

    sources = build_sources(spec)
    state = engine.observe(spec.project)
    result = plan(spec, state, options, sources=sources)
    return annotate(result, engine), state


def annotate(result: Plan, engine) -> Plan:
    changes = []
    for change in result.changes:
        if change.action is Action.REPLACE and change.container_id:
            change = _with_diff_warning(change, engine)
        changes.append(change)
    return replace(result, changes=tuple(changes))


def _with_diff_warning(change: Change, engine) -> Change:
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


def run_pass(
    spec: Spec,
    engine,
    plan_options: PlanOptions = PlanOptions(),
    exec_options: ExecOptions = ExecOptions(),
    on_event: EventFn | None = None,
    image_actions=None,
    on_plan=None,
    adjust=None,
) -> PassResult:
    """Plan and execute once, under the project's lock. Plan errors raise PlanError before
    any action. `adjust(plan, state) -> plan` may hold changes back before execution (watch
    turns the START of a crash-looping container into UNCHANGED); the planner stays pure."""
    from reconciler.lock import project_lock

    with project_lock(spec.project):
        result, state = make_plan(spec, engine, plan_options)
        if result.errors:
            raise PlanError(list(result.errors))
        if adjust is not None:
            result = adjust(result, state)
        if on_plan is not None:
            on_plan(result)
        if image_actions is None:
            image_actions = _default_image_actions(spec, engine)
        executor = Executor(engine, spec.project, exec_options, on_event, image_actions)
        outcomes = executor.run(result)
    return PassResult(result, tuple(outcomes))


def _default_image_actions(spec: Spec, engine):
    from reconciler.execute.images import ImageActions

    return ImageActions(spec, engine)
