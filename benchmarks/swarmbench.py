"""target swarm benchmark:  python -m benchmarks.swarmbench [--services 50] [--repeat 3]

reconciler (`apply` of a spec with N services) next to `docker stack deploy` of the
equivalent Compose file, on the local engine as a Swarm manager (`make swarm`): a no-op apply
(deploy) and an env change of one service, with the API requests each tool sent, counted by a
proxy in front of the engine (benchmarks/proxy.py), and how many of them mutate (not GET/HEAD).

reconciler waits until an update converged (its monitor window included); `docker stack
deploy` returns once the specs are sent (it does not wait for tasks), so its wall time covers
less work. Writes benchmarks/results/swarm.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.proxy import CountingProxy

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost:5000/stand-in/busybox:1"
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"


def spec_text(project: str, n: int, changed: int | None) -> str:
    lines = [f"version: 1\nproject: {project}\ntarget: swarm\ncontainers:"]
    for i in range(n):
        env = "2" if changed == i else "1"
        lines.append(
            f"  s{i}:\n    image: {IMAGE}\n    command: [sleep, '100000']\n"
            f"    env: {{V: '{env}'}}\n    stop_timeout: 1s\n    update: {{monitor: 1s}}"
        )
    return "\n".join(lines) + "\n"


def compose_text(n: int, changed: int | None) -> str:
    lines = ['version: "3.8"\nservices:']
    for i in range(n):
        env = "2" if changed == i else "1"
        lines.append(
            f"  s{i}:\n    image: {IMAGE}\n    command: [sleep, '100000']\n"
            f"    environment: {{V: '{env}'}}\n    stop_grace_period: 1s\n"
            f"    deploy:\n      update_config: {{monitor: 1s}}"
        )
    return "\n".join(lines) + "\n"


def timed(cmd: list[str], env: dict[str, str], proxy: CountingProxy) -> dict:
    proxy.reset()
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    requests = proxy.requests()
    mutating = [r for r in requests if r[0] not in ("GET", "HEAD")]
    return {"wall": wall, "requests": len(requests), "mutating": len(mutating)}


def wait_gone(label: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        out = subprocess.run(
            [DOCKER, "ps", "-aq", "--filter", f"label={label}"], capture_output=True, text=True
        ).stdout
        if not out.strip():
            return
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.swarmbench")
    p.add_argument("--services", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    n = args.services
    tmp = Path(tempfile.mkdtemp(prefix="swarmbench-"))
    project, stack = f"sb{os.getpid()}", f"sk{os.getpid()}"
    spec, compose = tmp / "spec.yaml", tmp / "compose.yaml"
    proxy = CountingProxy(str(tmp / "docker.sock")).start()
    env = {**os.environ, "DOCKER_HOST": proxy.docker_host, "NO_COLOR": "1"}
    rec = [sys.executable, "-m", "reconciler", "apply", str(spec)]
    dep = [DOCKER, "stack", "deploy", "--resolve-image", "never", "-c", str(compose), stack]
    results: dict[str, dict] = {}
    try:
        spec.write_text(spec_text(project, n, None))
        compose.write_text(compose_text(n, None))
        results["reconciler cold apply"] = timed(rec, env, proxy)
        results["stack deploy cold"] = timed(dep, env, proxy)
        for name, cmd in (("reconciler no-op apply", rec), ("stack deploy no-op", dep)):
            runs = [timed(cmd, env, proxy) for _ in range(args.repeat)]
            results[name] = {
                "wall": statistics.median(r["wall"] for r in runs),
                "requests": max(r["requests"] for r in runs),
                "mutating": max(r["mutating"] for r in runs),
            }
        spec.write_text(spec_text(project, n, 0))
        compose.write_text(compose_text(n, 0))
        results["reconciler env change of 1"] = timed(rec, env, proxy)
        results["stack deploy env change of 1"] = timed(dep, env, proxy)
    finally:
        subprocess.run(
            [sys.executable, "-m", "reconciler", "destroy", str(spec)],
            capture_output=True,
            cwd=ROOT,
        )
        subprocess.run([DOCKER, "stack", "rm", stack], capture_output=True)
        wait_gone(f"com.docker.stack.namespace={stack}")
        subprocess.run([DOCKER, "network", "rm", f"{stack}_default"], capture_output=True)
        proxy.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "swarm.json").write_text(json.dumps({"services": n, "results": results}, indent=2))
    print(f"| N={n} services | wall (s) | API requests | mutating |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['wall']:.2f} | {r['requests']} | {r['mutating']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
