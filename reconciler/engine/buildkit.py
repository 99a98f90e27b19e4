"""BuildKit builds through the `docker` CLI: the Docker SDK speaks only the classic builder.

`BuildkitOps` is composed into `engine.Engine` (adapter.py); execute/images.py calls
`buildkit_cli()` to choose a builder and `build_buildkit()` to build, through `EnginePort`.

Finding a CLI that really can (checked once per process): the first `docker` on PATH may be a
CLI of 23 or later without the buildx plugin, with which `DOCKER_BUILDKIT=1 docker build`
prints "BuildKit is enabled but the buildx component is missing or broken" and still exits 0.
So a CLI counts when `docker buildx version` works, or when it is older than 23 (its own
BuildKit client); every `docker` on PATH and /usr/bin/docker are tried. The engine must speak
API 1.39 (Docker 18.09) or later.

A build sends the same archive as the classic builder (on stdin, `docker build -`), with
`--progress=plain`; each output line goes to the progress callback as a `{"stream": ...}`
event. Success is proved by the result, not the exit code: the tag must name an image that
carries the expected labels. The Dockerfile sent never has a `# syntax=` directive
(buildctx.stages drops it), so no frontend image is ever fetched from a registry.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING

from reconciler.engine.client import EngineClient
from reconciler.engine.port import ProgressFn
from reconciler.errors import ImageError
from reconciler.model.spec import BuildSpec

if TYPE_CHECKING:
    import subprocess

MIN_API = (1, 39)  # Docker 18.09: BuildKit in the engine
FIRST_WITHOUT_BUILTIN = 23  # CLIs from 23 on need the buildx plugin for BuildKit
PROBE_TIMEOUT_S = 10
TAIL = 12
_FOUND: dict[str, tuple[str | None, str]] = {}
_FOUND_LOCK = threading.Lock()


def _candidates() -> list[str]:
    """Every `docker` executable on PATH (in PATH order), then /usr/bin/docker."""
    out: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(folder or ".", "docker")
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            real = os.path.realpath(path)
            if real not in (os.path.realpath(p) for p in out):
                out.append(path)
    if os.access("/usr/bin/docker", os.X_OK) and os.path.realpath("/usr/bin/docker") not in (
        os.path.realpath(p) for p in out
    ):
        out.append("/usr/bin/docker")
    return out


def _run(argv: list[str], env: Mapping[str, str]) -> tuple[int, str]:
    import subprocess  # stdlib, lazy: only a build runs a CLI (issue 14)

    try:
        done = subprocess.run(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def probe_cli(path: str, env: Mapping[str, str]) -> str | None:
    """Why `path` cannot run BuildKit builds, or None when it can."""
    code, out = _run([path, "buildx", "version"], env)
    if code == 0 and "buildx" in out.lower() and "not a docker command" not in out.lower():
        return None
    code, version = _run([path, "version", "--format", "{{.Client.Version}}"], env)
    if code != 0 or not version:
        return f"{path}: `docker version` failed ({version[:80] or code})"
    try:
        major = int(version.split(".")[0])
    except ValueError:
        return f"{path}: unknown version {version!r}"
    if major >= FIRST_WITHOUT_BUILTIN:
        return f"{path}: version {version} needs the buildx plugin, which is missing"
    return None


class BuildkitOps(EngineClient):
    """BuildKit builds through a capable docker CLI."""

    def _cli_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.address.startswith(("unix://", "tcp://", "ssh://", "npipe://")):
            env.setdefault("DOCKER_HOST", self.address)
        env["DOCKER_BUILDKIT"] = "1"
        env["BUILDKIT_PROGRESS"] = "plain"
        env.pop("BUILDKIT_SYNTAX", None)  # a frontend image would be fetched from a registry
        return env

    def buildkit_cli(self) -> tuple[str | None, str]:
        """(the CLI to build with, "") or (None, why no BuildKit build is possible here)."""
        with _FOUND_LOCK:
            if self.address in _FOUND:
                return _FOUND[self.address]
        found = self._find_cli()
        with _FOUND_LOCK:
            _FOUND[self.address] = found
        return found

    def _find_cli(self) -> tuple[str | None, str]:
        try:
            api = tuple(int(p) for p in self.api_version.split(".")[:2])
        except ValueError:
            api = MIN_API
        if api < MIN_API:
            return None, f"the engine's API {self.api_version} predates BuildKit (1.39)"
        candidates = _candidates()
        import shutil  # stdlib, but not on the read path (bz2, lzma): only for a build

        if not candidates and shutil.which("docker") is None:
            return None, "no `docker` CLI on PATH (Debian: apt-get install docker.io)"
        reasons = []
        env = self._cli_env()
        for path in candidates:
            why = probe_cli(path, env)
            if why is None:
                return path, ""
            reasons.append(why)
        return None, "no docker CLI that can use BuildKit: " + "; ".join(reasons)

    def build_buildkit(
        self,
        context: IO[bytes],
        tag: str,
        *,
        dockerfile: str,
        build: BuildSpec,
        labels: Mapping[str, str],
        expect: Mapping[str, str],
        progress: ProgressFn | None = None,
        no_cache: bool = False,
    ) -> str:
        """Build `tag` with BuildKit from an uncompressed tar of the context; returns the image
        id. `expect`: labels the result must carry (proof that this build made it)."""
        action = f"cannot build {tag}"
        cli, why = self.buildkit_cli()
        if cli is None:
            raise ImageError(f"{action} with BuildKit: {why}")
        argv = [cli, "build", "--progress=plain", "-t", tag, "-f", dockerfile]
        argv += _options(build, labels, no_cache)
        argv.append("-")
        log = PlainLog()
        import subprocess  # stdlib, lazy (see _run)

        try:
            proc = subprocess.Popen(
                argv,
                env=self._cli_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise ImageError(f"{action}: cannot run {cli}: {exc}") from exc
        feeder = threading.Thread(target=_feed, args=(context, proc), daemon=True)
        feeder.start()
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            log.feed(line)
            if progress is not None:
                progress({"stream": line + "\n"})
        code = proc.wait()
        feeder.join()
        info = self.inspect_image(tag)  # type: ignore[attr-defined]
        labels_found = (info or {}).get("labels") or {}
        made = info is not None and all(labels_found.get(k) == v for k, v in expect.items())
        if code == 0 and made:
            return str(info["id"])  # type: ignore[index]
        cause = f"exited with code {code}" if code else "no image with this build's labels"
        raise ImageError(log.failure(f"{action}: BuildKit build ({cli}) failed", cause))


_STEP = re.compile(r"^#(\d+) \[(?:[^\]]* )?(\d+/\d+)\] (.*)$")
_VERTEX_LINE = re.compile(r"^#(\d+) (?:\d+\.\d+ )?(.*)$")


class PlainLog:
    """Follows `--progress=plain` output: each vertex's step title and output lines, so that
    a failure names its step (`failed at step 3/4 RUN make`) and the output tail."""

    def __init__(self) -> None:
        self.titles: dict[str, str] = {}
        self.output: dict[str, list[str]] = {}
        self.failed: tuple[str, str] | None = None  # (vertex, error)
        self.tail: list[str] = []

    def feed(self, line: str) -> None:
        if line.strip():
            self.tail = [*self.tail, line][-TAIL:]
        step = _STEP.match(line)
        if step:
            self.titles[step.group(1)] = f"{step.group(2)} {step.group(3)}"
            return
        m = _VERTEX_LINE.match(line)
        if not m:
            return
        vertex, text = m.groups()
        if text.startswith("ERROR: ") and self.failed is None:
            self.failed = (vertex, text.removeprefix("ERROR: "))
        elif not text.startswith(("sha256:", "DONE", "CACHED", "...")):
            self.output[vertex] = [*self.output.get(vertex, []), text][-TAIL:]

    def failure(self, head: str, cause: str) -> str:
        lines = self.tail
        if self.failed is not None:
            vertex, error = self.failed
            title = self.titles.get(vertex)
            head += f" at step {title}" if title else ""
            cause, lines = error, self.output.get(vertex, []) or self.tail
        message = f"{head}: {cause}"
        if lines:
            message += "\n" + "\n".join(f"    | {line}" for line in lines)
        return message


def _feed(context: IO[bytes], proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    try:
        while chunk := context.read(1 << 16):
            proc.stdin.write(chunk)
    except (BrokenPipeError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def _options(build: BuildSpec, labels: Mapping[str, str], no_cache: bool) -> list[str]:
    out: list[str] = []
    for key, value in sorted(build.args.items()):
        out += ["--build-arg", f"{key}={value}"]
    if build.target:
        out += ["--target", build.target]
    for key, value in sorted(labels.items()):
        out += ["--label", f"{key}={value}"]
    for ref in build.cache_from:
        out += ["--cache-from", ref]
    for key, path in sorted(build.secrets.items()):
        out += ["--secret", f"id={key},src={path}"]
    for item in build.ssh:
        out += ["--ssh", item]
    if build.network:
        out += ["--network", build.network]
    for host in build.extra_hosts:
        out += ["--add-host", host]
    if no_cache:
        out.append("--no-cache")
    return out
