"""Render benchmark results (a JSON-able dict, see run.py) as Markdown (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.stats import (
    Summary,
    fmt_bytes,
    fmt_ratio,
    fmt_summary,
    ratio,
    summarise,
)

# (metric suffix, title, reconciler command, docker-compose command, has engine limit)
STEPS = (
    ("cold", "Cold apply (N new containers)", "apply", "up -d", True),
    ("noop", "No-op apply (nothing to change)", "apply", "up -d", False),
    ("change", "One container changed (env)", "apply", "up -d", False),
    ("destroy", "Destroy (stop and remove all)", "destroy", "down", True),
)

TARGET_N = 50
NOOP_BUDGET_S = 0.25  # issue 14: no-op apply, plan and status of 50
NOOP_VS_COMPOSE = 8.0
COLD_VS_LIMIT = 1.1
READ_COMMANDS = (
    ("reconciler.noop", "no-op apply"),
    ("reconciler.plan", "`plan --detailed-exitcode`"),
    ("reconciler.status", "`status -o json`"),
)
EDIT_BUDGET_S = 1.0
KILL_BUDGET_S = 2.0
# issue 14, at scale (`make bench-scale`): 500 containers as easy as 50
SCALE_N = 500
SCALE_NOOP_BUDGET_S = 0.5
SCALE_VS_LIMIT_FROM = 200  # cold apply and destroy within COLD_VS_LIMIT of the limit from here
SCALE_KILL_BUDGET_S = 1.0
SCALE_RSS_BUDGET = 80 * 1024 * 1024


def _summary(samples: Mapping[str, list], key: str) -> Summary | None:
    return summarise([s["wall"] if isinstance(s, Mapping) else s for s in samples.get(key, ())])


def _cpu(samples: Mapping[str, list], key: str) -> Summary | None:
    return summarise([s["cpu"] for s in samples.get(key, ()) if isinstance(s, Mapping)])


def load_during(sizes: Mapping[str, Any]) -> str | None:
    """The 1-minute load average seen at each measured step: min, median, max."""
    loads = [
        sample["load"]
        for data in sizes.values()
        for samples in (data.get("samples") or {}).values()
        for sample in samples
        if isinstance(sample, Mapping) and "load" in sample
    ]
    s = summarise(loads)
    if s is None:
        return None
    return f"{s.low:.1f} / {s.median:.1f} / {s.high:.1f}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def step_table(sizes: Mapping[str, Any], suffix: str, has_limit: bool) -> str:
    headers = ["N", "reconciler", "docker-compose", "compose ÷ reconciler"]
    if has_limit:
        headers += ["engine limit", "reconciler ÷ limit"]
    headers += ["CPU reconciler", "CPU compose"]
    rows = []
    for n, data in sorted(sizes.items(), key=lambda kv: int(kv[0])):
        samples = data.get("samples", {})
        stalled = data.get("stalled") or {}

        def cell(tool: str, summary: Summary | None, stalled=stalled) -> str:
            if summary is None and tool in stalled:
                return "stalled"
            return fmt_summary(summary) + (" (then stalled)" if tool in stalled else "")

        rec = _summary(samples, f"reconciler.{suffix}")
        comp = _summary(samples, f"compose.{suffix}")
        row = [str(n), cell("reconciler", rec), cell("compose", comp)]
        row.append(fmt_ratio(ratio(comp, rec)))
        if has_limit:
            lim = _summary(samples, f"limit.{suffix}")
            row += [cell("limit", lim), fmt_ratio(ratio(rec, lim))]
        rec_cpu = _cpu(samples, f"reconciler.{suffix}")
        comp_cpu = _cpu(samples, f"compose.{suffix}")
        row += [fmt_summary(rec_cpu), fmt_summary(comp_cpu)]
        rows.append(row)
    return table(headers, rows)


def engine_errors(sizes: Mapping[str, Any], suffix: str) -> dict[str, int]:
    """tool -> number of `suffix` samples that ended on the engine's known network error."""
    found: dict[str, int] = {}
    for data in sizes.values():
        for metric, samples in (data.get("samples") or {}).items():
            tool, _, step = metric.partition(".")
            if step != suffix:
                continue
            for sample in samples:
                if isinstance(sample, Mapping) and sample.get("engine_error"):
                    found[tool] = found.get(tool, 0) + 1
    return found


def calls_table(sizes: Mapping[str, Any]) -> str:
    rows = []
    for n, data in sorted(sizes.items(), key=lambda kv: int(kv[0])):
        calls = data.get("api_calls") or {}
        rec = calls.get("reconciler") or {}
        comp = calls.get("compose") or {}
        rows.append(
            [
                str(n),
                str(rec.get("count", "–")),
                _breakdown(rec.get("breakdown")),
                str(comp.get("count", "–")),
                _breakdown(comp.get("breakdown"), limit=4),
            ]
        )
    headers = ["N", "reconciler", "reconciler's calls", "docker-compose", "compose's top calls"]
    return table(headers, rows)


def _breakdown(breakdown: Mapping[str, int] | None, limit: int = 12) -> str:
    if not breakdown:
        return "–"
    items = sorted(breakdown.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [f"`{call}` ×{count}" if count > 1 else f"`{call}`" for call, count in items[:limit]]
    if len(items) > limit:
        shown.append(f"+{len(items) - limit} more kinds")
    return ", ".join(shown)


def watch_section(watch: Mapping[str, Any] | None) -> str:
    if not watch:
        return "not measured"
    if not watch.get("available"):
        return f"not measured: {watch.get('reason') or 'watch not available'}"
    edit = summarise(watch.get("edit") or [])
    kill = summarise(watch.get("kill") or [])
    timeouts = watch.get("timeouts") or {}
    reaction = summarise(watch.get("edit_reaction") or [])
    rows = [
        [
            "spec edit → converged (old stopped, new started, old removed)",
            fmt_summary(edit),
            str(edit.n if edit else 0),
            str(timeouts.get("edit", 0)),
        ],
        [
            "spec edit → watch's first action on the engine",
            fmt_summary(reaction),
            str(reaction.n if reaction else 0),
            "",
        ],
        [
            "`docker kill` → running again",
            fmt_summary(kill),
            str(kill.n if kill else 0),
            str(timeouts.get("kill", 0)),
        ],
    ]
    text = [
        f"`reconciler watch` on N={watch.get('n')} containers, over a window of "
        f"{(watch.get('window_s') or 0) / 60:.1f} min of alternating edits and kills.",
        "",
        table(["event", "median (min–max)", "samples", "timed out"], rows),
        "",
        table(
            ["memory of the watch process", "value"],
            [
                ["RSS after the first convergence", fmt_bytes(watch.get("rss_start"))],
                ["RSS at the end of the window", fmt_bytes(watch.get("rss_end"))],
                ["peak RSS (sampled every 0.1 s)", fmt_bytes(watch.get("rss_max_sampled"))],
                ["peak RSS (kernel VmHWM)", fmt_bytes(watch.get("rss_hwm"))],
            ],
        ),
    ]
    return "\n".join(text)


def startup_section(startup: Mapping[str, Any] | None) -> str:
    """The no-op apply taken apart: each chain row is a process doing what the row above does
    and a bit more, and `step` is what that bit costs (difference of medians); reference rows
    are single imports, shown against interpreter start."""
    if not startup:
        return "not measured"
    samples = startup.get("samples") or {}
    rows = []
    previous = start = None
    for title in startup.get("order") or ():
        wall, cpu = _summary(samples, title), _cpu(samples, title)
        if wall is None:
            continue
        step = "" if previous is None else f"{wall.median - previous:+.3f} s"
        rows.append([title, fmt_summary(wall), fmt_summary(cpu), step])
        previous = wall.median
        start = wall.median if start is None else start
    for title in startup.get("reference") or ():
        wall, cpu = _summary(samples, title), _cpu(samples, title)
        if wall is None:
            continue
        step = "" if start is None else f"{wall.median - start:+.3f} s over start"
        rows.append([f"for reference: {title}", fmt_summary(wall), fmt_summary(cpu), step])
    intro = (
        f"The same no-op apply on N={startup.get('n')} containers taken apart: each row runs "
        "a process that does what the row above does and a bit more; `step` is what that "
        "bit costs (difference of medians)."
    )
    return "\n".join([intro, "", table(["process", "wall", "CPU", "step"], rows)])


def targets(results: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for the design's speed budgets."""
    sizes = results.get("sizes") or {}
    rows: list[tuple[str, str, str]] = []
    counts = {
        n: ((d.get("api_calls") or {}).get("reconciler") or {}).get("count")
        for n, d in sizes.items()
    }
    counts = {n: c for n, c in counts.items() if c is not None}
    if counts:
        measured = ", ".join(
            f"N={n}: {c}" for n, c in sorted(counts.items(), key=lambda kv: int(kv[0]))
        )
        same = len(set(counts.values())) == 1
        rows.append(
            (
                "no-op apply: the same number of API calls at every N",
                measured,
                _verdict(same and len(counts) > 1, len(counts) > 1),
            )
        )
    data = sizes.get(str(TARGET_N))
    if data:
        samples = data.get("samples", {})
        comp = _summary(samples, "compose.noop")
        for name, what in READ_COMMANDS:
            measured = _summary(samples, name)
            if not measured:
                continue
            rows.append(
                (
                    f"{what} of {TARGET_N}: under {NOOP_BUDGET_S} s wall (median)",
                    fmt_summary(measured),
                    _verdict(measured.median < NOOP_BUDGET_S),
                )
            )
            r = ratio(comp, measured)
            if r is not None:
                rows.append(
                    (
                        f"{what} of {TARGET_N}: at least {NOOP_VS_COMPOSE:g}× faster than "
                        "no-op `docker-compose up -d`",
                        fmt_ratio(r),
                        _verdict(r >= NOOP_VS_COMPOSE),
                    )
                )
        r = ratio(_summary(samples, "reconciler.cold"), _summary(samples, "limit.cold"))
        if r is not None:
            rows.append(
                (
                    f"cold apply of {TARGET_N}: within {COLD_VS_LIMIT}× of the engine-limit script",
                    fmt_ratio(r),
                    _verdict(r <= COLD_VS_LIMIT),
                )
            )
    rows += _scale_targets(sizes)
    watch = results.get("watch") or {}
    if watch.get("available"):
        edit = summarise(watch.get("edit") or [])
        kill = summarise(watch.get("kill") or [])
        reaction = summarise(watch.get("edit_reaction") or [])
        if reaction:
            rows.append(
                (
                    f"watch: a saved spec edit acted on in under {EDIT_BUDGET_S:g} s (then "
                    "the engine's own work: stop, create, start, remove; "
                    f"converged in {fmt_summary(edit)})",
                    fmt_summary(reaction),
                    _verdict(reaction.median < EDIT_BUDGET_S),
                )
            )
        at_scale = int(watch.get("n") or 0) >= SCALE_N
        of_n = f" of {watch.get('n')}" if at_scale else ""
        budget = SCALE_KILL_BUDGET_S if at_scale else KILL_BUDGET_S
        if kill:
            rows.append(
                (
                    f"watch{of_n}: a killed container back in under {budget:g} s",
                    fmt_summary(kill),
                    _verdict(kill.median < budget),
                )
            )
        if at_scale and watch.get("rss_start") is not None:
            rows.append(
                (
                    f"watch of {watch.get('n')}: RSS after converging under "
                    f"{fmt_bytes(SCALE_RSS_BUDGET)}",
                    fmt_bytes(watch["rss_start"]),
                    _verdict(watch["rss_start"] < SCALE_RSS_BUDGET),
                )
            )
    return rows


def _scale_targets(sizes: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """From N = 200 on: cold apply and destroy within 1.1x of the limit script; at N = 500 a
    no-op apply under 0.5 s."""
    rows: list[tuple[str, str, str]] = []
    for n in sorted((int(k) for k in sizes), key=int):
        if n < SCALE_VS_LIMIT_FROM:
            continue
        samples = sizes[str(n)].get("samples", {})
        for step, what in (("cold", "cold apply"), ("destroy", "destroy")):
            r = ratio(_summary(samples, f"reconciler.{step}"), _summary(samples, f"limit.{step}"))
            if r is not None:
                rows.append(
                    (
                        f"{what} of {n}: within {COLD_VS_LIMIT}× of the engine-limit script",
                        fmt_ratio(r),
                        _verdict(r <= COLD_VS_LIMIT),
                    )
                )
        noop = _summary(samples, "reconciler.noop")
        if n >= SCALE_N and noop is not None:
            rows.append(
                (
                    f"no-op apply of {n}: under {SCALE_NOOP_BUDGET_S:g} s wall (median)",
                    fmt_summary(noop),
                    _verdict(noop.median < SCALE_NOOP_BUDGET_S),
                )
            )
    return rows


def _verdict(ok: bool, applicable: bool = True) -> str:
    if not applicable:
        return "n/a (one size)"
    return "met" if ok else "**missed**"


def render(results: Mapping[str, Any], notes: list[str] | None = None) -> str:
    machine = results.get("machine") or {}
    options = results.get("options") or {}
    sizes = results.get("sizes") or {}
    out = [
        "# Benchmarks",
        "",
        "reconciler side by side with docker-compose on the same work, and with the engine's "
        "own limit (a plain script creating and starting the same containers through the "
        "Docker API with a thread pool).",
        "",
        f"Produced by `{results.get('command', '?')}` on {results.get('started', '?')} "
        f"in {results.get('duration_s', 0) / 60:.1f} min. "
        "Regenerate with `make bench` on a quiet machine: these are wall-clock times, and "
        "anything else running on the machine makes them slower and noisier.",
    ]
    if notes:
        out += ["", *[f"> {note}" for note in notes]]
    out += [
        "",
        "## Machine",
        "",
        table(
            ["", "value"],
            [[k, str(v)] for k, v in machine.items()]
            + (
                [["1-min load at the measured steps (min / median / max)", load_during(sizes)]]
                if load_during(sizes)
                else []
            ),
        ),
        "",
        "## Method",
        "",
        f"- Workload: N containers (N = {', '.join(str(n) for n in sorted(map(int, sizes)))}) "
        f"of `{options.get('image', '?')}` running `sleep 100000`, each with one env var; "
        + (
            "`init: true` on every side (busybox `sleep` as PID 1 ignores SIGTERM; under an "
            "init it stops at once) and "
            if options.get("init")
            else "on every side (busybox `sleep` as PID 1 ignores SIGTERM) "
        )
        + "a 1 s stop timeout (`stop_timeout: 1s`, compose `stop_grace_period: 1s`, the "
        "API's `StopTimeout`), so destroy and replace cost the same engine work everywhere. "
        + (
            "Every side puts the containers on a network of the project's own "
            "(`<project>_default`, each reachable by its key): reconciler and compose by "
            "default, the limit script creates it."
            if options.get("project_network", True)
            else "All on the engine's default bridge (compose: `network_mode: bridge`)."
        ),
        f"- Each repetition ({options.get('repeat', '?')} per N) runs one fresh project per tool, "
        "in rotating order: reconciler (`apply` cold, "
        f"{options.get('noops', '?')} no-op `apply`, `apply` after one container's env changed, "
        "`destroy`), docker-compose (`up -d` cold, no-op `up -d`, `up -d` after the change, "
        "`down`) and the engine-limit script (`python -m benchmarks.limit up` / `down`, "
        f"{options.get('workers', '?')} threads, docker SDK `APIClient`). Every step is "
        "checked afterwards (N running, the changed container replaced, nothing left).",
        "- Times are wall-clock seconds of the whole command, process start and imports "
        "included, as a user sees them: median (min–max). CPU is the user+system time of "
        "the command's process. Ratios are of medians: `compose ÷ reconciler` above 1 means "
        "reconciler is faster; `reconciler ÷ limit` is how far reconciler is from the limit.",
        "- Python bytecode is cached for every tool (as after `pip install` or Debian's "
        "install), and one unmeasured warm-up cycle per tool runs first.",
        "- API calls are counted by a proxy on a unix socket (`benchmarks/proxy.py`) between "
        "the unmodified CLI process and the engine (`DOCKER_HOST=unix://…`); every HTTP "
        "request counts, the version negotiation included.",
        "",
        "## Results",
        "",
    ]
    for suffix, title, rec_cmd, comp_cmd, has_limit in STEPS:
        out += [
            f"### {title}",
            "",
            f"`reconciler {rec_cmd}` vs `docker-compose {comp_cmd}`, seconds.",
            "",
            step_table(sizes, suffix, has_limit),
            "",
        ]
        bugs = engine_errors(sizes, suffix)
        if bugs:
            out += [
                "The engine refused to remove the project network in "
                + ", ".join(f"{count} {tool} run(s)" for tool, count in sorted(bugs.items()))
                + " (`has active endpoints` with no container left: Docker 20.10's phantom "
                "endpoint bug, moby/moby#43286; the network stays until dockerd restarts). "
                "Those runs are counted as measured: everything else was removed.",
                "",
            ]
    stalls = [
        f"- N={n}, {tool}: {message}"
        for n, data in sorted(sizes.items(), key=lambda kv: int(kv[0]))
        for tool, message in sorted((data.get("stalled") or {}).items())
    ]
    if stalls:
        out += [
            "### Stalls",
            "",
            "A command that made no visible progress (the project's container counts) for "
            "90 s was killed and its tool not run again at that N; its project was removed. "
            "docker-compose 1.x is known to hang on many services (docker/compose#8161, "
            "#7486).",
            "",
            *stalls,
            "",
        ]
    out += [
        "### Engine API calls of a no-op apply",
        "",
        calls_table(sizes),
        "",
        "### Where a no-op apply's time goes",
        "",
        startup_section(results.get("startup")),
        "",
        "### Watch",
        "",
        watch_section(results.get("watch")),
        "",
        "## Targets",
        "",
    ]
    rows = targets(results)
    if rows:
        out += [table(["target", "measured", ""], [list(r) for r in rows]), ""]
    else:
        out += ["No target applies to the sizes measured.", ""]
    analysis = results.get("analysis")
    if analysis:
        out += ["## What limits it", "", analysis.strip(), ""]
    return "\n".join(out)
