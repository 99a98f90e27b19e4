"""Pure translations between the project's values and the Engine API (no SDK, no I/O).

Request bodies: `container_create_body` (and its healthcheck), `helper_container_body` (a
commit recipe's work container), `commit_config` (a committed image's config). Raw -> observed:
`observed_container` / `observed_image` (list data, used by observe), `container_info` /
`image_info` (inspect results), `anonymous_mounts`, `parse_health`, `parse_exit_code`,
`format_ports`. Called by the engine's per-kind modules (containers, images, client); unit-tested
without an engine (tests/unit/engine).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.engine.translate_options import add_options, endpoint_addresses
from reconciler.model.labels import (
    LABEL_CONFIG,
    LABEL_CONFIG_HASH,
    LABEL_NAME,
    LABEL_PROJECT,
    LABEL_REPLICA,
)
from reconciler.model.spec import CommitChanges
from reconciler.model.state import ForeignPort, ObservedContainer, ObservedImage

_NS = 1_000_000_000
_ANONYMOUS_VOLUME_NAME = re.compile(r"^[0-9a-f]{64}$")
_EXIT_CODE = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")
_NEVER = "0001-01-01T00:00:00Z"

# --- request bodies -------------------------------------------------------------------------


def container_create_body(
    config: Mapping[str, Any],
    labels: Mapping[str, str],
    carry_volumes: Mapping[str, str] | None = None,
    *,
    volume_names: Mapping[str, str] | None = None,
    network_names: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[tuple[str, list[str]]]]:
    """The POST /containers/create body for a normalised config, and the (network, aliases)
    attachments in order (the first is set at create, the others are connected after)."""
    volume_names = volume_names or {}
    network_names = network_names or {}
    carry = dict(carry_volumes or {})

    exposed: dict[str, dict] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in config.get("ports") or ():
        key = f"{port['container_port']}/{port.get('protocol') or 'tcp'}"
        exposed[key] = {}
        host_port = port.get("host_port")
        bindings.setdefault(key, []).append(
            {
                "HostIp": port.get("host_ip") or "",
                "HostPort": "" if host_port is None else str(host_port),
            }
        )

    mounts: list[dict[str, Any]] = []
    targets: set[str] = set()
    for volume in config.get("volumes") or ():
        target = volume["target"]
        kind = volume.get("kind") or "volume"
        mount: dict[str, Any] = {
            "Target": target,
            "ReadOnly": bool(volume.get("read_only")),
        }
        if kind == "bind":
            mount.update(Type="bind", Source=volume["source"])
        elif kind == "anonymous" or not volume.get("source"):
            mount["Type"] = "volume"
            if target in carry:
                mount["Source"] = carry[target]
        else:
            mount.update(Type="volume", Source=volume_names.get(volume["source"], volume["source"]))
        targets.add(target)
        mounts.append(mount)
    # Anonymous volumes the old container had that the config does not mention (an image's
    # VOLUME): carried over too, as `docker compose` does.
    for target, name in sorted(carry.items()):
        if target not in targets:
            mounts.append({"Type": "volume", "Source": name, "Target": target, "ReadOnly": False})

    restart = config.get("restart") or {}
    restart_name = restart.get("name") or "no"
    host_config: dict[str, Any] = {
        "PortBindings": bindings,
        "Mounts": mounts,
        "RestartPolicy": {
            "Name": "" if restart_name == "no" else restart_name,
            "MaximumRetryCount": int(restart.get("max_retries") or 0)
            if restart_name == "on-failure"
            else 0,
        },
    }
    if config.get("init"):
        host_config["Init"] = True

    networks = [
        (network_names.get(n["network"], n["network"]), list(n.get("aliases") or ()))
        for n in config.get("networks") or ()
    ]
    body: dict[str, Any] = {
        "Image": config["image"],
        "Env": [f"{k}={v}" for k, v in (config.get("env") or {}).items()],
        "ExposedPorts": exposed,
        "Labels": {**(config.get("labels") or {}), **labels},
        "HostConfig": host_config,
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": False,
        "OpenStdin": False,
    }
    if config.get("command") is not None:
        body["Cmd"] = list(config["command"])
    if config.get("entrypoint") is not None:
        body["Entrypoint"] = list(config["entrypoint"])
    if config.get("workdir"):
        body["WorkingDir"] = config["workdir"]
    if config.get("user"):
        body["User"] = config["user"]
    if config.get("hostname"):
        body["Hostname"] = config["hostname"]
    if config.get("stop_timeout") is not None:
        body["StopTimeout"] = max(0, math.ceil(config["stop_timeout"]))
    healthcheck = config.get("healthcheck")
    if healthcheck:
        body["Healthcheck"] = healthcheck_body(healthcheck)
    if networks:
        first, aliases = networks[0]
        host_config["NetworkMode"] = first
        endpoint: dict[str, Any] = {"Aliases": aliases} if aliases else {}
        body["NetworkingConfig"] = {"EndpointsConfig": {first: endpoint}}
        addresses = endpoint_addresses(config, network_names)  # fixed ipv4/ipv6_address
        if first in addresses:
            endpoint["IPAMConfig"] = addresses[first]
    add_options(config, body)  # the fields shared with Compose, when set (issue 13)
    return body, networks


def healthcheck_body(healthcheck: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"Test": list(healthcheck.get("test") or ())}
    for field, key in (("interval", "Interval"), ("timeout", "Timeout")):
        if healthcheck.get(field) is not None:
            result[key] = round(healthcheck[field] * _NS)
    if healthcheck.get("start_period") is not None:
        result["StartPeriod"] = round(healthcheck["start_period"] * _NS)
    if healthcheck.get("retries") is not None:
        result["Retries"] = int(healthcheck["retries"])
    if healthcheck.get("start_interval") is not None:  # API >= 1.44; older engines ignore it
        result["StartInterval"] = round(healthcheck["start_interval"] * _NS)
    return result


def helper_container_body(image: str, entrypoint: list[str]) -> dict[str, Any]:
    """A bare container of `image` running `entrypoint` with an empty CMD and no labels (a
    commit recipe's work container: nothing of it may leak into the committed image)."""
    return {
        "Image": image,
        "Entrypoint": list(entrypoint),
        "Cmd": [],
        "Labels": {},
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": False,
        "OpenStdin": False,
        "HostConfig": {},
    }


def commit_config(
    base: Mapping[str, Any], changes: CommitChanges, labels: Mapping[str, str]
) -> dict[str, Any]:
    """The committed image's config (Engine API ContainerConfig) for `base` (an
    `inspect_image` result): the base image's, with the recipe's changes (Dockerfile
    semantics: a new ENTRYPOINT clears the inherited CMD) and the labels. Cmd and Entrypoint
    are always given (an empty list, not null) so that nothing of the work container leaks."""
    if changes.entrypoint is not None:
        entrypoint = list(changes.entrypoint)
    else:
        entrypoint = list(base.get("entrypoint") or [])
    if changes.cmd is not None:
        cmd = list(changes.cmd)
    elif changes.entrypoint is not None:
        cmd = []
    else:
        cmd = list(base.get("cmd") or [])
    env: dict[str, str] = {}
    for item in base.get("env") or ():
        name, _, value = item.partition("=")
        env[name] = value
    env.update(changes.env)
    exposed: dict[str, dict[str, Any]] = {
        p if "/" in p else f"{p}/tcp": {} for p in base.get("exposed_ports") or ()
    }
    exposed.update({p if "/" in p else f"{p}/tcp": {} for p in changes.expose})
    conf: dict[str, Any] = {
        "Entrypoint": entrypoint,
        "Cmd": cmd,
        "Env": [f"{k}={v}" for k, v in env.items()],
        "ExposedPorts": exposed,
        "Labels": {**(base.get("labels") or {}), **changes.labels, **labels},
    }
    if changes.workdir:
        conf["WorkingDir"] = changes.workdir
    if changes.user:
        conf["User"] = changes.user
    return conf


# --- raw -> observed ------------------------------------------------------------------------


def container_info(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An inspect_container result from the raw inspect (see EnginePort.inspect_container)."""
    state = raw.get("State") or {}
    health = (state.get("Health") or {}).get("Status") or None
    started = state.get("StartedAt") or None
    finished = state.get("FinishedAt") or None
    return {
        "id": raw.get("Id", ""),
        "name": (raw.get("Name") or "").lstrip("/"),
        "status": state.get("Status", ""),
        "health": health if health in ("starting", "healthy", "unhealthy") else None,
        "exit_code": state.get("ExitCode"),
        "running": bool(state.get("Running")),
        "started_at": None if started == _NEVER else started,
        "finished_at": None if finished == _NEVER else finished,
        "restart_count": raw.get("RestartCount", 0),
        "error": state.get("Error") or None,
        "image_id": raw.get("Image", ""),
        "labels": dict((raw.get("Config") or {}).get("Labels") or {}),
    }


def image_info(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An inspect_image result from the raw inspect (see EnginePort.inspect_image)."""
    config = raw.get("Config") or {}
    return {
        "id": raw.get("Id", ""),
        "tags": [t for t in raw.get("RepoTags") or () if "<none>" not in t],
        "labels": dict(config.get("Labels") or {}),
        "cmd": config.get("Cmd"),
        "entrypoint": config.get("Entrypoint"),
        "env": list(config.get("Env") or ()),
        "workdir": config.get("WorkingDir") or "",
        "user": config.get("User") or "",
        "exposed_ports": sorted((config.get("ExposedPorts") or {}).keys()),
        "parent": raw.get("Parent") or "",
    }


def anonymous_mounts(raw: Mapping[str, Any]) -> dict[str, str]:
    """Target path -> volume name of a raw inspect's anonymous volumes: volumes with an
    engine-generated name (anonymous mounts, image VOLUMEs, volumes carried over before) and
    volumes at the config label's anonymous targets."""
    labels = (raw.get("Config") or {}).get("Labels") or {}
    config = parse_config_label(labels.get(LABEL_CONFIG))
    anonymous_targets = {
        m.get("target")
        for m in ((config or {}).get("volumes") or ())
        if isinstance(m, Mapping) and m.get("kind") == "anonymous"
    }
    result = {}
    for mount in raw.get("Mounts") or ():
        if mount.get("Type") != "volume" or not mount.get("Name"):
            continue
        target = mount.get("Destination", "")
        if _ANONYMOUS_VOLUME_NAME.match(mount["Name"]) or target in anonymous_targets:
            result[target] = mount["Name"]
    return result


def stream_error(event: Mapping[str, Any]) -> str | None:
    """The error a pull or build stream event reports (the engine sends failures in the
    stream, with a 200 status), or None."""
    if not (event.get("error") or event.get("errorDetail")):
        return None
    detail = event.get("errorDetail") or {}
    return str(event.get("error") or detail.get("message") or str(detail))


def container_name(raw: Mapping[str, Any]) -> str:
    names = raw.get("Names") or []
    # Legacy links add names like "/other/alias": the container's own has one slash.
    for name in names:
        if name.count("/") <= 1:
            return name.lstrip("/")
    return names[0].lstrip("/") if names else raw.get("Id", "")[:12]


def observed_container(
    raw: Mapping[str, Any], name: str, labels: Mapping[str, str]
) -> ObservedContainer:
    status_text = raw.get("Status") or ""
    state = raw.get("State") or ""
    if isinstance(state, Mapping):  # very old engines
        state = state.get("Status", "")
    config = parse_config_label(labels.get(LABEL_CONFIG))
    image = (config or {}).get("image") if config else None
    return ObservedContainer(
        id=raw.get("Id", ""),
        name=name,
        project=labels.get(LABEL_PROJECT, ""),
        key=labels.get(LABEL_NAME, ""),
        replica=_int(labels.get(LABEL_REPLICA)),
        status=state,
        health=parse_health(status_text),
        exit_code=parse_exit_code(status_text),
        image=image if isinstance(image, str) and image else raw.get("Image", ""),
        image_id=raw.get("ImageID") or "",
        config_hash=labels.get(LABEL_CONFIG_HASH),
        config=config,
        labels=dict(labels),
        ports=format_ports(raw.get("Ports") or ()),
        created=int(raw.get("Created") or 0),
        anonymous_volumes=anonymous_volume_names(raw),
    )


def observed_image(raw: Mapping[str, Any]) -> ObservedImage:
    tags = tuple(t for t in raw.get("RepoTags") or () if t and "<none>" not in t)
    return ObservedImage(
        id=raw.get("Id", ""),
        tags=tags,
        labels=dict(raw.get("Labels") or {}),
        created=int(raw.get("Created") or 0),
        digests=tuple(d for d in raw.get("RepoDigests") or () if d and "<none>" not in d),
    )


def parse_health(status: str) -> str | None:
    """Health from the list's Status text: "Up 3 minutes (healthy)" -> "healthy"."""
    if "(health: starting)" in status:
        return "starting"
    if "(unhealthy)" in status:
        return "unhealthy"
    if "(healthy)" in status:
        return "healthy"
    return None


def parse_exit_code(status: str) -> int | None:
    """ "Exited (137) 2 seconds ago" -> 137; None when the text carries no exit code."""
    match = _EXIT_CODE.match(status)
    return int(match.group(1)) if match else None


def foreign_ports(
    raw_containers: Any, ours: Callable[[Mapping[str, str]], bool]
) -> tuple[ForeignPort, ...]:
    """The host ports published by the containers whose labels are not `ours` (the list's
    Ports): a spec publishing one of them clashes (plan/host_ports.py)."""
    found = []
    for raw in raw_containers:
        if ours(raw.get("Labels") or {}):
            continue
        for port in raw.get("Ports") or ():
            if port.get("PublicPort"):
                ip, proto = port.get("IP") or "", port.get("Type") or "tcp"
                found.append(ForeignPort(ip, proto, int(port["PublicPort"]), container_name(raw)))
    return tuple(found)


def anonymous_volume_names(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Names of the engine-named volumes in the list's Mounts (anonymous and image VOLUMEs)."""
    return tuple(
        m["Name"]
        for m in raw.get("Mounts") or ()
        if m.get("Type") == "volume" and _ANONYMOUS_VOLUME_NAME.match(m.get("Name") or "")
    )


def format_ports(ports: Any) -> tuple[str, ...]:
    """The list's Ports for display, like `docker ps`: "127.0.0.1:8080->80/tcp", "80/tcp"."""
    result: list[str] = []
    for port in ports:
        private = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
        if port.get("PublicPort"):
            ip = port.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip else ip
            text = f"{host}:{port['PublicPort']}->{private}"
        else:
            text = private
        if text not in result:
            result.append(text)
    return tuple(sorted(result))


def parse_config_label(text: str | None) -> Mapping[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _int(text: str | None) -> int:
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


def event_time(value: float | None) -> Any:
    """An events `since`/`until` value: whole seconds as an int, else "s.nnnnnnnnn"."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else f"{value:.9f}"
