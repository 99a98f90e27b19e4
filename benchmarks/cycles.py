"""One measured cycle per tool on N containers, each in a fresh project:

- reconciler: cold `apply`, no-op `apply`, `plan --detailed-exitcode` and `status -o json`
  (several each), one container changed (env) `apply`,
  `destroy`;
- docker-compose: cold `up -d`, no-op `up -d` (several), one service changed `up -d`, `down`;
- engine limit: create+start through the API with a thread pool, then stop+remove.

Every step is checked after it ran (all N running, the changed one replaced, nothing left), so
a tool that skipped work could not look fast. Samples go into `record(metric, Sample)`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import workload
from benchmarks.harness import (
    COMPOSE_PROJECT_LABEL,
    ENGINE_NETWORK_BUG,
    RECONCILER_PROJECT_LABEL,
    BenchError,
    Cleanup,
    Sample,
    Stalled,
    all_count,
    compose_command,
    reconciler_command,
    run_timed,
    running_count,
    unique_project,
)
from benchmarks.proxy import CountingProxy
from benchmarks.workload import BENCH_LABEL

Record = Callable[[str, Sample], None]


@dataclass
class Context:
    api: object  # docker.APIClient for checks
    workdir: Path
    image: str
    init: bool
    env: dict[str, str]  # for reconciler and the limit script
    compose_env: dict[str, str]
    cleanup: Cleanup
    noops: int = 3
    workers: int = 8
    project_network: bool = True
    proxy: CountingProxy | None = None
    # "compose": reconciler reads the very docker-compose.yml docker-compose runs (issue 13)
    reconciler_input: str = "spec"


def _expect_running(ctx: Context, label: str, project: str, n: int, step: str) -> None:
    running = running_count(ctx.api, label, project)
    if running != n:
        raise BenchError(f"{step}: {running} of {n} containers running in {project}")


def _expect_gone(ctx: Context, label: str, project: str, step: str) -> None:
    left = all_count(ctx.api, label, project)
    if left:
        raise BenchError(f"{step}: {left} containers left in {project}")


def _first_id(ctx: Context, label: str, project: str, extra: str) -> str:
    found = ctx.api.containers(all=True, filters={"label": [f"{label}={project}", extra]})
    return found[0]["Id"] if found else ""


def _progress(ctx: Context, label: str, project: str):
    """What a stall watchdog polls: the project's (containers, running) counts."""
    return lambda: (
        all_count(ctx.api, label, project),
        running_count(ctx.api, label, project),
    )


def _cleaned_on_stall(kind: str):
    """Decorator: a cycle that stalls removes its project before re-raising Stalled."""

    def wrap(cycle):
        def run(ctx: Context, n: int, *args, **kwargs):
            before = len(ctx.cleanup.projects)
            try:
                return cycle(ctx, n, *args, **kwargs)
            except Stalled:
                for k, project in ctx.cleanup.projects[before:]:
                    if k == kind:
                        ctx.cleanup.remove(ctx.api, k, project)
                raise

        return run

    return wrap


@_cleaned_on_stall("reconciler")
def reconciler_cycle(ctx: Context, n: int, record: Record, count_api: bool = False) -> dict:
    """Returns the no-op API call breakdown when count_api (through the counting proxy)."""
    project = ctx.cleanup.add("reconciler", unique_project(n))
    folder = ctx.workdir / project
    folder.mkdir()
    from_compose = ctx.reconciler_input == "compose"
    spec = folder / ("docker-compose.yml" if from_compose else "spec.yaml")
    cli = [*reconciler_command()]
    first = workload.keys(n)[0]
    watch = _progress(ctx, RECONCILER_PROJECT_LABEL, project)

    def write(revisions: dict[str, int] | None = None) -> None:
        if from_compose:
            text = workload.compose_file(n, ctx.image, revisions, ctx.init, ctx.project_network)
        else:
            text = workload.reconciler_spec(project, n, ctx.image, revisions, ctx.init)
        spec.write_text(text)

    if from_compose:  # the Compose file names no project: both tools get it with -p
        cli = [*cli, "-p", project]

    write()
    record(
        "reconciler.cold", run_timed([*cli, "apply", str(spec)], ctx.env, folder, progress=watch)
    )
    _expect_running(ctx, RECONCILER_PROJECT_LABEL, project, n, "reconciler cold apply")
    for _ in range(ctx.noops):
        record(
            "reconciler.noop",
            run_timed([*cli, "apply", str(spec)], ctx.env, folder, progress=watch),
        )
    for _ in range(ctx.noops):  # the read commands scripts and prompts call (issue 14)
        plan = [*cli, "plan", str(spec), "--detailed-exitcode"]
        record("reconciler.plan", run_timed(plan, ctx.env, folder, progress=watch))
        status = [*cli, "status", str(spec), "-o", "json"]
        record("reconciler.status", run_timed(status, ctx.env, folder, progress=watch))
    calls: dict = {}
    if count_api and ctx.proxy is not None:
        calls = count_calls(ctx.proxy, [*cli, "apply", str(spec)], ctx.env, folder)
    name_label = f"io.reconciler.name={first}"
    before = _first_id(ctx, RECONCILER_PROJECT_LABEL, project, name_label)
    write({first: 1})
    record(
        "reconciler.change", run_timed([*cli, "apply", str(spec)], ctx.env, folder, progress=watch)
    )
    after = _first_id(ctx, RECONCILER_PROJECT_LABEL, project, name_label)
    if not after or after == before:
        raise BenchError(f"reconciler change: container {first} of {project} was not replaced")
    _expect_running(ctx, RECONCILER_PROJECT_LABEL, project, n, "reconciler change")
    destroy = [*cli, "destroy", str(spec)]
    sample = run_timed(destroy, ctx.env, folder, tolerate=ENGINE_NETWORK_BUG, progress=watch)
    record("reconciler.destroy", sample)
    _expect_gone(ctx, RECONCILER_PROJECT_LABEL, project, "reconciler destroy")
    return calls


@_cleaned_on_stall("compose")
def compose_cycle(ctx: Context, n: int, record: Record, count_api: bool = False) -> dict:
    project = ctx.cleanup.add("compose", unique_project(n, "compose"))
    folder = ctx.workdir / project
    folder.mkdir()
    file = folder / "docker-compose.yml"
    base = [*compose_command(), "-p", project, "-f", str(file)]
    first = workload.keys(n)[0]
    watch = _progress(ctx, COMPOSE_PROJECT_LABEL, project)

    def write(revisions: dict[str, int] | None = None) -> None:
        file.write_text(
            workload.compose_file(n, ctx.image, revisions, ctx.init, ctx.project_network)
        )

    write()
    record("compose.cold", run_timed([*base, "up", "-d"], ctx.compose_env, folder, progress=watch))
    _expect_running(ctx, COMPOSE_PROJECT_LABEL, project, n, "docker-compose up -d")
    for _ in range(ctx.noops):
        record(
            "compose.noop", run_timed([*base, "up", "-d"], ctx.compose_env, folder, progress=watch)
        )
    calls: dict = {}
    if count_api and ctx.proxy is not None:
        calls = count_calls(ctx.proxy, [*base, "up", "-d"], ctx.compose_env, folder)
    service_label = f"com.docker.compose.service={first}"
    before = _first_id(ctx, COMPOSE_PROJECT_LABEL, project, service_label)
    write({first: 1})
    record(
        "compose.change", run_timed([*base, "up", "-d"], ctx.compose_env, folder, progress=watch)
    )
    after = _first_id(ctx, COMPOSE_PROJECT_LABEL, project, service_label)
    if not after or after == before:
        raise BenchError(f"docker-compose change: service {first} of {project} was not replaced")
    _expect_running(ctx, COMPOSE_PROJECT_LABEL, project, n, "docker-compose change")
    down = [*base, "down"]
    sample = run_timed(down, ctx.compose_env, folder, tolerate=ENGINE_NETWORK_BUG, progress=watch)
    record("compose.destroy", sample)
    _expect_gone(ctx, COMPOSE_PROJECT_LABEL, project, "docker-compose down")
    return calls


@_cleaned_on_stall("limit")
def limit_cycle(ctx: Context, n: int, record: Record) -> None:
    project = ctx.cleanup.add("limit", unique_project(n, "limit"))
    base = [sys.executable, "-m", "benchmarks.limit"]
    common = ["--project", project, "--workers", str(ctx.workers)]
    up = [*base, "up", *common, "--n", str(n), "--image", ctx.image]
    if ctx.init:
        up.append("--init")
    if not ctx.project_network:
        up.append("--bridge")
    cwd = Path(__file__).resolve().parent.parent
    watch = _progress(ctx, BENCH_LABEL, project)
    record("limit.cold", run_timed(up, ctx.env, cwd, progress=watch))
    _expect_running(ctx, BENCH_LABEL, project, n, "engine-limit create+start")
    down = [*base, "down", *common]
    sample = run_timed(down, ctx.env, cwd, tolerate=ENGINE_NETWORK_BUG, progress=watch)
    record("limit.destroy", sample)
    _expect_gone(ctx, BENCH_LABEL, project, "engine-limit stop+remove")


def count_calls(proxy: CountingProxy, cmd: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Run one command through the counting proxy: its request count and breakdown."""
    proxy.reset()
    run_timed(cmd, {**env, "DOCKER_HOST": proxy.docker_host}, cwd)
    breakdown = proxy.breakdown()
    return {"count": sum(breakdown.values()), "breakdown": dict(sorted(breakdown.items()))}


# (title, interpreter or CLI, arguments, in the chain: each chain row does what the one above
# does and a bit more; the others are for reference, measured against interpreter start)
BREAKDOWN_STEPS = (
    ("interpreter start (`python -c pass`)", "python", ["-c", "pass"], True),
    ("`reconciler --help` (CLI start)", "cli", ["--help"], True),
    ("`reconciler validate` (+ load the spec)", "cli", ["validate", "{spec}"], True),
    ("`reconciler plan` (+ connect, observe, plan)", "cli", ["plan", "{spec}"], True),
    ("`reconciler apply` (+ executor; nothing to do)", "cli", ["apply", "{spec}"], True),
    ("`python -c 'import yaml'`", "python", ["-c", "import yaml"], False),
    ("`python -c 'import docker'` (the Docker SDK)", "python", ["-c", "import docker"], False),
)


def startup_breakdown(
    ctx: Context, n: int, repeat: int, record: Record
) -> tuple[list[str], list[str]]:
    """Where a no-op apply's time goes: the same process doing less and less. Each step
    is run `repeat` times on one applied project of N containers."""
    project = ctx.cleanup.add("reconciler", unique_project(n, "startup"))
    folder = ctx.workdir / project
    folder.mkdir()
    spec = folder / "spec.yaml"
    spec.write_text(workload.reconciler_spec(project, n, ctx.image, None, ctx.init))
    cli = reconciler_command()
    run_timed([*cli, "apply", str(spec)], ctx.env, folder)
    _expect_running(ctx, RECONCILER_PROJECT_LABEL, project, n, "reconciler cold apply")
    python = sys.executable  # the benchmark runs under the reconciler's own interpreter
    for _ in range(repeat):
        for title, kind, words, _chain in BREAKDOWN_STEPS:
            argv = [w.replace("{spec}", str(spec)) for w in words]
            cmd = [python, *argv] if kind == "python" else [*cli, *argv]
            record(f"startup.{title}", run_timed(cmd, ctx.env, folder))
    run_timed([*cli, "destroy", str(spec)], ctx.env, folder, tolerate=ENGINE_NETWORK_BUG)
    return [title for title, _, _, chain in BREAKDOWN_STEPS if chain], [
        title for title, _, _, chain in BREAKDOWN_STEPS if not chain
    ]
