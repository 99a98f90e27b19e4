"""Validation speed on a generated spec: python benchmarks/validate_bench.py [N] [REPEAT]

Generates a spec of N containers (default 200; each with a replica port range, a udp port,
10 env variables, a named and an anonymous volume, a healthcheck, a dependency and a network
alias), then measures, as the best of REPEAT runs (default 7;
the machine is shared: the minimum is the least noisy):
- interpreter start (`python -c pass`) and `import reconciler.cli`;
- the whole `python -m reconciler validate SPEC`, and that minus interpreter start;
- in-process `load_spec()` (warm imports) and its phases.
No engine needed. Prints a small table; nothing is asserted.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def generate(n: int) -> dict:
    containers = {}
    for i in range(n):
        containers[f"c{i}"] = {
            "image": "base",
            "command": ["sleep", "100000"],
            "env": {f"K{j}": f"v{j}" for j in range(10)},
            "ports": [f"127.0.0.1:{20000 + 2 * i}-{20001 + 2 * i}:8080", "9000/udp"],
            "replicas": 2,
            "volumes": ["data:/data", "/anon"],
            "healthcheck": {"test": ["CMD", "true"], "interval": "5s", "retries": 3},
            "restart": "unless-stopped",
            "labels": {"tier": "x"},
            "depends_on": {f"c{i - 1}": "started"} if i else [],
            "networks": {"backend": {"aliases": [f"a{i}"]}},
            "stop_timeout": "10s",
        }
    return {
        "version": 1,
        "project": "bench",
        "images": {"base": {"pull": "localhost:5000/stand-in/busybox:1"}},
        "containers": containers,
        "networks": {"backend": {}},
        "volumes": {"data": {}},
    }


def wall(argv: list[str], repeat: int, env: dict[str, str]) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system) of a command."""
    subprocess.run(argv, check=True, capture_output=True, env=env)  # warm the bytecode cache
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return min(walls), min(cpus)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    folder = Path(tempfile.mkdtemp(prefix="reconciler-validate-bench-"))
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(generate(n), sort_keys=False))
    lines = path.read_text().count("\n")
    py = sys.executable
    # like an installed package: bytecode cached (kept out of the source tree)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")

    start_only = wall([py, "-c", "pass"], repeat, env)
    import_cli = wall([py, "-c", "import reconciler.cli"], repeat, env)
    command = wall([py, "-m", "reconciler", "validate", str(path)], repeat, env)

    from reconciler.load.interpolate import interpolate_document
    from reconciler.load.loader import check_document, load_spec
    from reconciler.load.schema import is_valid
    from reconciler.load.schema import validator as _validator
    from reconciler.load.source import load_document

    load_spec(path, environ={})  # warm imports and the cached validator

    def best_of(fn) -> float:
        samples = []
        for _ in range(repeat):
            t = time.process_time()
            fn()
            samples.append(time.process_time() - t)
        return min(samples)

    doc = load_document(path)
    data = interpolate_document(doc, {})[0]
    phases = {
        "load_spec (all phases)": best_of(lambda: load_spec(path, environ={})),
        "  read + YAML + marks": best_of(lambda: load_document(path)),
        "  schema check (fast, used)": best_of(lambda: is_valid(data)),
        "  jsonschema (only when invalid)": best_of(lambda: list(_validator().iter_errors(data))),
        "  interpolate+schema+normalise+checks": best_of(lambda: check_document(doc, {})),
    }
    print(f"spec: {n} containers, {lines} lines ({path})")
    print(f"{'':38}{'wall':>8}{'cpu':>8}")
    for name, (w, c) in (
        ("python -c pass", start_only),
        ("import reconciler.cli", import_cli),
        ("reconciler validate (whole command)", command),
    ):
        print(f"{name:<38}{w * 1000:6.0f}ms{c * 1000:6.0f}ms")
    w = command[0] - start_only[0]
    c = command[1] - start_only[1]
    print(f"{'  minus interpreter start':<38}{w * 1000:6.0f}ms{c * 1000:6.0f}ms")
    print("in-process, warm (cpu time):")
    for name, seconds in phases.items():
        print(f"{name:<38}{seconds * 1000:6.0f}ms")


if __name__ == "__main__":
    main()
