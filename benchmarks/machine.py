"""A description of the machine a benchmark ran on."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path


def _run(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / (1024 * 1024):.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def describe(compose: str) -> dict[str, str]:
    repo = Path(__file__).resolve().parent.parent
    commit = _run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"])
    docker = _run(
        ["docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"]
    )
    from reconciler import __version__

    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu model": _cpu_model(),
        "memory": _memory(),
        "kernel": f"{platform.system()} {platform.release()}",
        "os": _os_release(),
        "docker engine": docker or "unknown",
        "docker-compose": _run([compose, "version", "--short"]) or "unknown",
        "python (reconciler)": platform.python_version() + f" ({sys.executable})",
        "python (docker-compose)": interpreter_of(compose),
        "reconciler": f"{__version__} at {commit or '?'}"
        + (" (uncommitted changes)" if dirty else ""),
    }


def interpreter_command(program: str) -> list[str] | None:
    """The interpreter command a script's #! line names (`env` resolved away); None for a
    program that is not a script or cannot be read."""
    try:
        with open(shutil.which(program) or program, "rb") as script:
            first = script.readline(256)
    except OSError:
        return None
    words = first[2:].decode(errors="replace").split() if first.startswith(b"#!") else []
    command = words[1:] if words and Path(words[0]).name == "env" else words
    return command or None


def interpreter_of(program: str) -> str:
    """The interpreter a script runs on, with its version (docker-compose 1.29 is a Python
    program: the two tools are compared on one interpreter build when `make bench` runs
    reconciler on the same one)."""
    command = interpreter_command(program)
    if command is None:
        return "not a script" if shutil.which(program) or Path(program).exists() else "unknown"
    version = _run([*command, "-c", "import platform; print(platform.python_version())"])
    return f"{version or '?'} ({' '.join(command)})"


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


if __name__ == "__main__":  # `python -m benchmarks.machine PROGRAM`: its interpreter (Makefile)
    found = interpreter_command(sys.argv[1]) if len(sys.argv) == 2 else None
    print(" ".join(found or ()))
