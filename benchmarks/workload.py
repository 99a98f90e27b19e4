"""The benchmark workload, written three ways: a reconciler spec, an equivalent
docker-compose.yml, and the container-create bodies of the engine-limit script.

N containers, each `sleep 100000` from the seeded stand-in image, each with one env var
BENCH_REV (the "one container changed" step bumps it on the first container). Busybox sleep as
PID 1 ignores SIGTERM, so every side gets the same 1 s stop timeout (and `init: true` too when
the reconciler spec supports it), and destroy costs the same engine work on both sides.

Networks are the same on every side: when reconciler puts a project's containers on a network
of its own (`<project>_default`, reachable by key, as Compose does), compose keeps its default
network and the limit script creates `<project>_default` too; with a reconciler that uses the
engine's default bridge, compose gets `network_mode: bridge` and the limit script uses it.
Pure functions, except `spec_supports_init` and `reconciler_uses_project_network`, which look
at the installed reconciler.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

DEFAULT_IMAGE = "localhost:5000/stand-in/busybox:1"
COMMAND = ("sleep", "100000")
STOP_TIMEOUT_S = 1
BENCH_LABEL = "io.reconciler.bench"  # on the engine-limit script's containers


def keys(n: int) -> list[str]:
    """Container keys c001..cNNN (zero-padded so they sort the same everywhere)."""
    width = max(3, len(str(n)))
    return [f"c{i:0{width}d}" for i in range(1, n + 1)]


def env_for(key: str, revisions: Mapping[str, int] | None) -> dict[str, str]:
    return {"BENCH_REV": str((revisions or {}).get(key, 0))}


def _q(value: str) -> str:
    """A YAML scalar that is always read back as this exact string (JSON is YAML)."""
    return json.dumps(value)


def reconciler_spec(
    project: str,
    n: int,
    image: str = DEFAULT_IMAGE,
    revisions: Mapping[str, int] | None = None,
    init: bool = False,
) -> str:
    """The reconciler spec (YAML text) of N containers."""
    lines = [
        "version: 1",
        f"project: {project}",
        "images:",
        "  base:",
        f"    pull: {_q(image)}",
        "    policy: if-missing",
        "containers:",
    ]
    for key in keys(n):
        lines += [
            f"  {key}:",
            "    image: base",
            f"    command: [{', '.join(_q(w) for w in COMMAND)}]",
            f"    stop_timeout: {STOP_TIMEOUT_S}s",
            "    env:",
            *(f"      {k}: {_q(v)}" for k, v in env_for(key, revisions).items()),
        ]
        if init:
            lines.append("    init: true")
    return "\n".join(lines) + "\n"


def compose_file(
    n: int,
    image: str = DEFAULT_IMAGE,
    revisions: Mapping[str, int] | None = None,
    init: bool = False,
    project_network: bool = True,
) -> str:
    """The equivalent docker-compose.yml (file format 2.4, which docker-compose 1.29 reads
    and which has init, stop_grace_period and network_mode)."""
    lines = ['version: "2.4"', "services:"]
    for key in keys(n):
        lines += [
            f"  {key}:",
            f"    image: {_q(image)}",
            f"    command: [{', '.join(_q(w) for w in COMMAND)}]",
            f"    stop_grace_period: {STOP_TIMEOUT_S}s",
            *(() if project_network else ("    network_mode: bridge",)),
            "    environment:",
            *(f"      {k}: {_q(v)}" for k, v in env_for(key, revisions).items()),
        ]
        if init:
            lines.append("    init: true")
    return "\n".join(lines) + "\n"


def limit_container_name(project: str, key: str) -> str:
    return f"{project}-{key}-1"


def limit_network_name(project: str) -> str:
    return f"{project}_default"


def limit_create_body(
    project: str,
    key: str,
    image: str = DEFAULT_IMAGE,
    revisions: Mapping[str, int] | None = None,
    init: bool = False,
    project_network: bool = True,
) -> dict:
    """POST /containers/create body for the engine-limit script: the same container (on the
    project's network, reachable by its key, when `project_network`)."""
    network = limit_network_name(project) if project_network else "bridge"
    host_config: dict = {"NetworkMode": network}
    if init:
        host_config["Init"] = True
    body = {
        "Image": image,
        "Cmd": list(COMMAND),
        "Env": [f"{k}={v}" for k, v in env_for(key, revisions).items()],
        "Labels": {BENCH_LABEL: project},
        "StopTimeout": STOP_TIMEOUT_S,
        "HostConfig": host_config,
    }
    if project_network:
        body["NetworkingConfig"] = {"EndpointsConfig": {network: {"Aliases": [key]}}}
    return body


def reconciler_uses_project_network() -> bool:
    """True when reconciler puts containers on `<project>_default` by default."""
    from reconciler.model import spec

    return getattr(spec, "DEFAULT_NETWORK", None) is not None


# where the packaged schema has lived: reconciler/ (0.1), reconciler/load/ (since issue 11)
SCHEMA_PLACES = (("reconciler", "spec.schema.json"), ("reconciler", "load/spec.schema.json"))


def spec_supports_init() -> bool:
    """True when the reconciler spec schema has `init` on containers."""
    from importlib import resources

    texts = []
    for package, name in SCHEMA_PLACES:
        try:
            texts.append(resources.files(package).joinpath(name).read_text())
        except OSError:
            continue
    try:
        schema = json.loads(texts[-1])
        props = schema["properties"]["containers"]["additionalProperties"]["properties"]
    except (IndexError, KeyError, ValueError, TypeError):
        return False
    return "init" in props
