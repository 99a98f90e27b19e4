"""Run the benchmarks and write docs/benchmarks.md:  python -m benchmarks.run [options]

    --sizes 10,50,200   workload sizes N (containers)
    --repeat K          repetitions per size (default 5)
    --tools LIST        reconciler plus any of compose,limit (default all three)
    --quick             small smoke run for CI: N=5, 1 repetition, a short watch window
    --watch-minutes M   length of the watch memory window (default 5)
    --out PATH          the Markdown report (default docs/benchmarks.md)

Needs the local engine with the seeded stand-in images (`make engine`) and docker-compose
(installed with apt-get when missing, as root on Debian). Every project it creates is
removed at the end, on failure or Ctrl-C too. Raw samples go to benchmarks/results/*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import cycles, report
from benchmarks.harness import (
    BenchError,
    Cleanup,
    Sample,
    Stalled,
    api_client,
    child_env,
    ensure_compose,
)
from benchmarks.machine import describe, load_average
from benchmarks.proxy import CountingProxy
from benchmarks.watchbench import measure_watch
from benchmarks.workload import (
    DEFAULT_IMAGE,
    reconciler_uses_project_network,
    spec_supports_init,
)

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_IMAGES = (DEFAULT_IMAGE, "stand-in/busybox:latest")
TOOLS = ("reconciler", "compose", "limit")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="reconciler vs docker-compose vs the engine's limit; writes a Markdown report",
    )
    p.add_argument("--sizes", default="10,50,200", help="comma-separated N (default 10,50,200)")
    p.add_argument("--repeat", type=int, default=5, metavar="K", help="repetitions (default 5)")
    p.add_argument("--noops", type=int, default=3, help="no-op applies per repetition (3)")
    p.add_argument("--quick", action="store_true", help="CI smoke: N=5, 1 repetition")
    p.add_argument("--watch-minutes", type=float, default=5.0, help="watch window (default 5)")
    p.add_argument("--watch-samples", type=int, default=10, help="minimum edits and kills (10)")
    p.add_argument("--watch-size", type=int, default=50, help="containers under watch (50)")
    p.add_argument("--no-watch", action="store_true", help="skip the watch measurements")
    p.add_argument("--workers", type=int, default=8, help="threads of the engine-limit script")
    p.add_argument(
        "--reconciler-input",
        choices=("spec", "compose"),
        default="spec",
        help="what reconciler reads: its own spec, or the docker-compose.yml compose runs",
    )
    p.add_argument(
        "--tools",
        default="reconciler,compose,limit",
        help="comma-separated tools to run (default reconciler,compose,limit); "
        "docker-compose 1.29 stalls from about 200 containers on",
    )
    p.add_argument("--image", default=None, help=f"image to run (default {DEFAULT_IMAGE})")
    p.add_argument("--out", default="docs/benchmarks.md", help="report path (docs/benchmarks.md)")
    p.add_argument("--note", action="append", default=[], help="a note quoted in the report")
    p.add_argument(
        "--render", metavar="JSON", help="only write the report from a saved results file"
    )
    args = p.parse_args(argv)
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        p.error(f"--sizes takes comma-separated integers, not {args.sizes!r}")
    if args.quick:
        args.sizes, args.repeat, args.noops = [5], 1, 2
        args.watch_size, args.watch_samples = 5, 3
        if "--watch-minutes" not in " ".join(argv or sys.argv[1:]):
            args.watch_minutes = 0.25
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if not args.tools or set(args.tools) - set(TOOLS) or "reconciler" not in args.tools:
        p.error(f"--tools takes reconciler plus any of {', '.join(TOOLS[1:])}")
    if not args.sizes or min(args.sizes) < 2 or args.repeat < 1 or args.noops < 1:
        p.error("sizes must be at least 2, --repeat and --noops at least 1")
    return args


def pick_image(api, wanted: str | None) -> str:
    for ref in (wanted,) if wanted else FALLBACK_IMAGES:
        try:
            api.inspect_image(ref)
            return ref
        except Exception:
            continue
    raise BenchError(
        f"image {wanted or ' or '.join(FALLBACK_IMAGES)} is not in the engine; "
        "run `make engine` (bash scripts/engine-setup.sh) to seed the stand-in images"
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m benchmarks.run" + (
        " " + shlex.join(argv if argv is not None else sys.argv[1:])
        if (argv if argv is not None else sys.argv[1:])
        else ""
    )
    if args.render:
        results = json.loads(Path(args.render).read_text())
        out = ROOT / args.out if not Path(args.out).is_absolute() else Path(args.out)
        analysis = ROOT / "benchmarks" / "analysis.md"
        if analysis.exists():
            results["analysis"] = analysis.read_text()
        out.write_text(report.render(results, notes=args.note or results.get("notes") or []))
        log(f"wrote {out} from {args.render}")
        return 0
    # SIGTERM (CI timeout, kill) unwinds like Ctrl-C, so the clean-up below runs.
    signal.signal(signal.SIGTERM, _interrupt)
    cleanup = Cleanup()
    api = None
    results: dict = {"notes": args.note}
    try:
        compose = ensure_compose()
        try:
            api = api_client()
        except Exception as exc:
            raise BenchError(f"cannot reach the Docker engine ({exc}); run `make engine`") from exc
        with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
            run_all(args, api, Path(tmp), cleanup, compose, command, results)
    except BenchError as exc:
        log(f"benchmark failed: {exc}")
        return _failed(results, "failed", 1)
    except KeyboardInterrupt:
        log("interrupted")
        return _failed(results, "interrupted", 130)
    finally:
        if api is not None:
            left = cleanup.run(api)
            if left:
                log(f"clean-up removed {left} containers left by the benchmark")
            api.close()
    write_report(results, args.out, args.note)
    return 0


def write_report(results: dict, out_arg: str, notes: list[str]) -> None:
    out = ROOT / out_arg if not Path(out_arg).is_absolute() else Path(out_arg)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.render(results, notes=notes))
    raw = save_raw(results)
    log(f"wrote {out} and {raw}")
    print(summary_lines(results))


def save_raw(results: dict, suffix: str = "") -> Path:
    raw = ROOT / "benchmarks" / "results"
    raw.mkdir(parents=True, exist_ok=True)
    stamp = str(results.get("started", "unknown")).replace(":", "").replace("-", "")
    path = raw / f"{stamp}{suffix}.json"
    path.write_text(json.dumps(results, indent=1))
    return path


def _failed(results: dict, how: str, code: int) -> int:
    """Keep what was measured (raw JSON; `--render FILE` makes a report of it)."""
    if results.get("sizes"):
        log(f"{how}: the samples so far are in {save_raw(results, '-' + how)}")
    return code


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_all(
    args, api, tmp: Path, cleanup: Cleanup, compose: str, command: str, results: dict
) -> dict:
    """Fills `results` as it goes, so a failure keeps what was measured."""
    started = datetime.now(UTC)
    t0 = time.monotonic()
    image = pick_image(api, args.image)
    init = spec_supports_init()
    project_network = reconciler_uses_project_network()
    env = child_env(tmp / "pycache")
    compose_env = child_env(None)
    load_before = load_average()
    results |= {
        "command": command,
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": describe(compose),
        "options": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "noops": args.noops,
            "workers": args.workers,
            "tools": args.tools,
            "image": image,
            "init": init,
            "project_network": project_network,
            "watch_minutes": args.watch_minutes,
        },
        "sizes": {},
    }
    with CountingProxy(str(tmp / "count.sock")) as proxy:
        ctx = cycles.Context(
            api=api,
            workdir=tmp,
            image=image,
            init=init,
            env=env,
            compose_env=compose_env,
            cleanup=cleanup,
            noops=args.noops,
            workers=args.workers,
            project_network=project_network,
            proxy=proxy,
            reconciler_input=args.reconciler_input,
        )
        log("warm-up (not measured): one cycle per tool on 2 containers")
        ignore = lambda _metric, _sample: None  # noqa: E731
        cycles.reconciler_cycle(ctx, 2, ignore)
        if "compose" in args.tools:
            cycles.compose_cycle(ctx, 2, ignore)
        if "limit" in args.tools:
            cycles.limit_cycle(ctx, 2, ignore)
        for n in args.sizes:
            results["sizes"][str(n)] = run_size(ctx, n, args.repeat, args.tools)
        n = 50 if 50 in args.sizes else max(args.sizes)
        log(f"where a no-op apply's time goes (N={n})")
        samples: dict[str, list[dict]] = {}

        def record(metric: str, sample: Sample) -> None:
            samples.setdefault(metric.removeprefix("startup."), []).append(
                {"wall": sample.wall, "cpu": sample.cpu}
            )

        chain, reference = cycles.startup_breakdown(ctx, n, max(5, args.repeat), record)
        results["startup"] = {
            "n": n,
            "order": chain,
            "reference": reference,
            "samples": samples,
        }
    if args.no_watch:
        results["watch"] = {"available": False, "reason": "skipped (--no-watch)"}
    else:
        n = args.watch_size
        log(f"watch: N={n}, window {args.watch_minutes:g} min, >= {args.watch_samples} samples")
        watch = measure_watch(
            api, env, tmp, cleanup, n, image, init, args.watch_minutes, args.watch_samples, log
        )
        if not watch.available:
            log(f"  {watch.reason}")
        results["watch"] = watch.to_json()
    results["machine"]["load average (start / end)"] = f"{load_before} / {load_average()}"
    analysis = ROOT / "benchmarks" / "analysis.md"
    if analysis.exists():
        results["analysis"] = analysis.read_text()
    results["duration_s"] = time.monotonic() - t0
    return results


def run_size(ctx: cycles.Context, n: int, repeat: int, tools: list[str]) -> dict:
    samples: dict[str, list[dict]] = {}
    calls: dict[str, dict] = {}

    def record(metric: str, sample: Sample) -> None:
        entry = {"wall": sample.wall, "cpu": sample.cpu, "load": os.getloadavg()[0]}
        note = ""
        if sample.tolerated:
            entry["engine_error"] = sample.tolerated
            note = f"  [engine: network {sample.tolerated}]"
        samples.setdefault(metric, []).append(entry)
        log(f"  N={n} {metric:<20} {sample.wall:7.3f} s  (cpu {sample.cpu:.3f} s){note}")

    stalled: dict[str, str] = {}  # a tool that stalled at this N is not run again at this N
    for rep in range(repeat):
        log(f"N={n}: repetition {rep + 1} of {repeat}")
        order = tools[rep % len(tools) :] + tools[: rep % len(tools)]
        for tool in order:
            if tool in stalled:
                continue
            first = not any(m.startswith(f"{tool}.noop") for m in samples)
            try:
                if tool == "reconciler":
                    found = cycles.reconciler_cycle(ctx, n, record, count_api=first)
                elif tool == "compose":
                    found = cycles.compose_cycle(ctx, n, record, count_api=first)
                else:
                    cycles.limit_cycle(ctx, n, record)
                    found = {}
            except Stalled as exc:
                stalled[tool] = f"repetition {rep + 1}: {exc}"
                log(f"  N={n} {tool} STALLED, not run again at this N: {exc}")
                continue
            if found:
                calls[tool] = found
                log(f"  N={n} {tool} no-op API calls: {found['count']}")
    return {"samples": samples, "api_calls": calls, "stalled": stalled}


def summary_lines(results: dict) -> str:
    lines = []
    for target, measured, verdict in report.targets(results):
        lines.append(f"{verdict.strip('*'):>7}  {target}: {measured}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
