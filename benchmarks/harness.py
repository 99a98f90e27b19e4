"""What the benchmark steps share: timed subprocesses, the child environment, the engine
client used for checks and clean-up, and the clean-up registry."""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.workload import BENCH_LABEL

RECONCILER_PROJECT_LABEL = "io.reconciler.project"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
LABEL_OF_KIND = {
    "reconciler": RECONCILER_PROJECT_LABEL,
    "compose": COMPOSE_PROJECT_LABEL,
    "limit": BENCH_LABEL,
}


class BenchError(RuntimeError):
    """A benchmark step failed (a command exited non-zero, a check did not hold)."""


# Docker 20.10 sometimes keeps a phantom endpoint on a network after its containers were removed
# concurrently, and then refuses to remove the network until dockerd restarts (moby/moby#43286;
# `docker-compose down` hits it too). A destroy that fails only on that is a measurement, not
# a benchmark failure; the report counts them.
ENGINE_NETWORK_BUG = "has active endpoints"


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, wall clock
    cpu: float  # seconds of user + system CPU of the command and its children
    tolerated: str = ""  # the known engine error the command failed on, if any


def unique_project(n: int | str, suffix: str = "") -> str:
    name = f"bench-{n}-{secrets.token_hex(3)}"
    return f"{name}-{suffix}" if suffix else name


def reconciler_command() -> list[str]:
    """The installed console script next to this interpreter (what a user runs), else -m."""
    script = Path(sys.executable).parent / "reconciler"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "reconciler"]


def compose_command() -> list[str]:
    path = shutil.which("docker-compose")
    if not path:
        raise BenchError("docker-compose is not installed")
    return [path]


def ensure_compose() -> str:
    """docker-compose on PATH; installed from Debian's packages (as root) when missing."""
    path = shutil.which("docker-compose")
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError(
            "docker-compose is missing; install it (on Debian: apt-get install -y docker-compose)"
        )
    print("docker-compose missing: apt-get install -y docker-compose", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "docker-compose"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        subprocess.run(install, env=env, check=True)
    path = shutil.which("docker-compose")
    if not path:
        raise BenchError("apt-get install docker-compose did not put docker-compose on PATH")
    return path


def child_env(pycache: Path | None, **extra: str) -> dict[str, str]:
    """The environment of measured commands. Bytecode is cached (as in any installed copy:
    pip and Debian compile it at install time), in `pycache` so the work tree stays clean;
    the first, unmeasured warm-up run fills it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.update(extra)
    return env


class Stalled(BenchError):
    """A command made no progress for too long and was killed (see run_timed)."""


STALL_AFTER_S = 90.0  # no visible progress for this long: the command is stuck


def run_timed(
    cmd: list[str],
    env: dict[str, str],
    cwd: Path | None = None,
    timeout: float = 1800,
    tolerate: str | None = None,
    progress: Callable[[], object] | None = None,
    stall_after: float = STALL_AFTER_S,
    check_every: float = 2.0,
) -> Sample:
    """Run a command to completion; its wall time and CPU time. Non-zero exit -> BenchError
    with the tail of its output, unless the output has `tolerate` in it.

    `progress()` (e.g. the project's container counts) is polled every few seconds: when
    its value has not changed for `stall_after` seconds, the command is killed and Stalled
    raised (docker-compose 1.x can hang for good on many services, docker/compose#8161)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        stalled: list[str] = []
        done = threading.Event()

        def watchdog() -> None:
            last_value, last_change = None, start
            while not done.wait(check_every):
                now = time.perf_counter()
                if now - start > timeout:
                    stalled.append(f"{shlex.join(cmd)} did not finish in {timeout:.0f} s")
                elif progress is not None:
                    try:
                        value = progress()
                    except Exception as exc:  # the engine busy or briefly away: no verdict
                        value = f"unknown ({exc})"
                    if value != last_value:
                        last_value, last_change = value, now
                    elif now - last_change > stall_after:
                        stalled.append(
                            f"{shlex.join(cmd)} made no progress for {stall_after:.0f} s "
                            f"(stuck at {value}); killed after {now - start:.0f} s"
                        )
                if stalled:
                    proc.kill()
                    return

        # The main thread blocks in wait() (exact end time); a watchdog thread polls progress.
        thread = threading.Thread(target=watchdog, name="stall-watchdog", daemon=True)
        thread.start()
        try:
            proc.wait()
            end = time.perf_counter()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            done.set()
            thread.join()
        if stalled:
            raise Stalled(stalled[0])
        wall = end - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            out.seek(0)
            output = out.read().decode(errors="replace")
            if tolerate and tolerate in output:
                return Sample(wall, cpu, tolerate)
            tail = "\n".join(output.splitlines()[-25:])
            raise BenchError(f"{shlex.join(cmd)} exited {proc.returncode}:\n{tail}")
    return Sample(wall, cpu)


def api_client():
    import docker
    import docker.utils

    return docker.APIClient(version="auto", timeout=300, **docker.utils.kwargs_from_env())


def running_count(api, label: str, project: str) -> int:
    found = api.containers(filters={"label": f"{label}={project}", "status": "running"})
    return len(found)


def all_count(api, label: str, project: str) -> int:
    return len(api.containers(all=True, filters={"label": f"{label}={project}"}))


@dataclass
class Cleanup:
    """Every project a benchmark creates, removed at the end whatever happened (force-removal
    by label: only what carries the project's label is touched)."""

    projects: list[tuple[str, str]] = field(default_factory=list)  # (kind, project)

    def add(self, kind: str, project: str) -> str:
        self.projects.append((kind, project))
        return project

    def remove(self, api, kind: str, project: str) -> int:
        label = f"{LABEL_OF_KIND[kind]}={project}"
        removed = 0
        if kind == "reconciler":  # the per-project lock file reconciler leaves behind
            from reconciler.lock import lock_dir

            with contextlib.suppress(OSError):
                (lock_dir() / f"{project}.lock").unlink(missing_ok=True)
        for c in api.containers(all=True, filters={"label": label}):
            with contextlib.suppress(Exception):
                api.remove_container(c["Id"], force=True, v=True)
                removed += 1
        with contextlib.suppress(Exception):
            for n in api.networks(filters={"label": label}) or ():
                with contextlib.suppress(Exception):
                    api.remove_network(n["Id"])
        with contextlib.suppress(Exception):
            for v in (api.volumes(filters={"label": label}) or {}).get("Volumes") or ():
                with contextlib.suppress(Exception):
                    api.remove_volume(v["Name"])
        return removed

    def run(self, api, engine_wait: float = 60.0) -> int:
        """Remove everything left; the number of containers that had to be removed. When the
        engine is away (restarted under us), wait up to `engine_wait` s for it first."""
        deadline = time.monotonic() + engine_wait
        while True:
            try:
                api.ping()
                break
            except Exception as exc:
                if time.monotonic() > deadline:
                    print(f"clean-up: the engine does not answer ({exc})", file=sys.stderr)
                    break
                time.sleep(1.0)
        left = 0
        for kind, project in self.projects:
            try:
                left += self.remove(api, kind, project)
            except Exception as exc:  # keep going: clean up the others
                print(f"clean-up of {kind} project {project} failed: {exc}", file=sys.stderr)
        return left
