"""A no-op `apply`, `plan --detailed-exitcode` and `status -o json` cost the same number of
engine API calls at N = 10 and N = 200 containers (counted by benchmarks/proxy.py between the
unmodified CLI process and the engine, the version negotiation included), and these read-path
processes never import the Docker SDK, requests, rich or jsonschema (issue 14). No timing."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.proxy import CountingProxy
from benchmarks.workload import reconciler_spec

pytestmark = pytest.mark.integration

HEAVY = ("docker", "requests", "rich", "jsonschema")
RUN = f"""
import sys
from reconciler.cli import main
rc = main(sys.argv[1:])
print("HEAVY=" + ",".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
sys.exit(rc)
"""


def reconciler(args: list[str], docker_host: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1")
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    return subprocess.run(
        [sys.executable, "-c", RUN, *args], env=env, capture_output=True, text=True, timeout=600
    )


def counted(proxy: CountingProxy, args: list[str]) -> tuple[int, int, str]:
    proxy.reset()
    result = reconciler(args, proxy.docker_host)
    heavy = result.stderr.rsplit("HEAVY=", 1)[-1].strip()
    return result.returncode, proxy.count(), heavy


def test_noop_calls_are_the_same_at_10_and_200_containers(tmp_path: Path, project, images):
    projects = {10: f"{project}s", 200: f"{project}l"}
    specs = {}
    for n, name in projects.items():
        specs[n] = tmp_path / f"spec{n}.yaml"
        specs[n].write_text(reconciler_spec(name, n, image=images.base, init=True))
    counts: dict[int, dict[str, tuple[int, int, str]]] = {}
    try:
        for n, spec in specs.items():
            cold = reconciler(["apply", str(spec), "--parallel", "8"])
            assert cold.returncode == 0, cold.stderr[-2000:]
            with CountingProxy(str(tmp_path / f"proxy{n}.sock")) as proxy:
                counts[n] = {
                    "apply": counted(proxy, ["apply", str(spec)]),
                    "plan": counted(proxy, ["plan", str(spec), "--detailed-exitcode"]),
                    "status": counted(proxy, ["status", str(spec), "-o", "json"]),
                }
    finally:
        for spec in specs.values():
            with contextlib.suppress(Exception):
                reconciler(["destroy", str(spec), "--yes"])
    assert counts[10] == counts[200], counts
    for command, (rc, calls, heavy) in counts[10].items():
        assert rc == 0, command
        assert heavy == "", (command, heavy)
        assert calls == 5, (command, calls)  # the version ping + 4 lists
