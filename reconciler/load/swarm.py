"""`target: swarm`: the Swarm-only fields (`update:`, `endpoint_mode`, a port's `mode`,
`registry:`) and the located errors for what a Swarm cannot honour.

Called by load/loader.py after semantics, with the raw document and the normalised Spec;
returns the Spec completed for Swarm (update policies, endpoint modes, the restart default,
built images tagged for the registry) and the problems. Refused on Swarm, each with why:
`state: stopped`, `exec`, `name`, depends_on conditions other than `started`, host
port ranges and `host_ip`, a network driver other than overlay. Refused on the engine target:
the Swarm-only fields. Nothing is silently dropped (docs/swarm.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import structs

from reconciler.errors import Problem
from reconciler.load.normalize.fields import Fields
from reconciler.load.source import Document, PathT
from reconciler.model import spec as S
from reconciler.model.labels import default_image_tag

SWARM_ONLY = ("update", "endpoint_mode")  # container fields that only a Swarm honours

# container field -> why a Swarm cannot honour it
REFUSED: dict[str, str] = {
    "exec": "the `exec` hooks run once per container from this machine, but Swarm starts and "
    "restarts tasks on any node by itself; bake the step into the image or the command",
    "name": "a Swarm names each task itself (<service>.<slot>.<id>); the service is named "
    "<project>_<key>",
}


# container fields shared with Compose (issue 13) that a Swarm service could carry but this
# version does not map yet: refused with a located error rather than dropped silently
NOT_MAPPED = (
    "cap_add", "cap_drop", "configs", "cpu_shares", "cpus", "cpuset", "deploy", "devices",
    "dns", "dns_opt", "dns_search", "expose", "extra_hosts", "logging", "mac_address",
    "mem_limit", "mem_reservation", "memswap_limit", "network_mode", "pids_limit", "platform",
    "privileged", "read_only", "runtime", "secrets", "security_opt", "shm_size", "stdin_open",
    "stop_signal", "sysctls", "tmpfs", "tty", "ulimits",
)  # fmt: skip


def swarm_rules(doc: Document, data: Any, spec: S.Spec) -> tuple[S.Spec, list[Problem]]:
    rules = _Rules(doc, data if isinstance(data, dict) else {})
    if spec.target != "swarm":
        rules.engine_only(spec)
        return spec, rules.problems
    return rules.swarm(spec), rules.problems


class _Rules(Fields):
    def __init__(self, doc: Document, data: Mapping[str, Any]):
        super().__init__(doc, {}, [])
        self.data = data

    def raw_container(self, key: str) -> Mapping[str, Any]:
        containers = self.data.get("containers")
        value = containers.get(key) if isinstance(containers, dict) else None
        return value if isinstance(value, dict) else {}

    # --- target engine: Swarm-only fields are errors, not ignored ---------------------------
    def engine_only(self, spec: S.Spec) -> None:
        if self.data.get("registry") is not None:
            self.err(("registry",), "`registry` is only used with `target: swarm`", at_key=True)
        for key in spec.containers:
            raw = self.raw_container(key)
            path: PathT = ("containers", key)
            for name in SWARM_ONLY:
                if name in raw:
                    self.err(
                        (*path, name),
                        f"`{name}` is only honoured with `target: swarm`",
                        "set `target: swarm` at the top of the spec, or remove it",
                        at_key=True,
                    )
            for i, port in enumerate(raw.get("ports") or ()):
                if isinstance(port, dict) and "mode" in port:
                    self.err(
                        (*path, "ports", i, "mode"),
                        "a port `mode` is only honoured with `target: swarm`",
                        at_key=True,
                    )

    # --- target swarm -------------------------------------------------------------------------
    def swarm(self, spec: S.Spec) -> S.Spec:
        containers = {key: self.container(c) for key, c in spec.containers.items()}
        for key, network in spec.networks.items():
            self.network(key, network)
        images = {key: self.image(spec, image) for key, image in spec.images.items()}
        networks = {
            key: n if n.external else structs.replace(n, driver="overlay", attachable=True)
            for key, n in spec.networks.items()
        }
        return structs.replace(spec, containers=containers, images=images, networks=networks)

    def container(self, c: S.ContainerSpec) -> S.ContainerSpec:
        path: PathT = ("containers", c.key)
        raw = self.raw_container(c.key)
        if c.state == "stopped":
            self.err(
                (*path, "state"),
                "`state: stopped` cannot be honoured on a Swarm: a service's tasks always run",
                "use `replicas: 0` to stop every task and keep the service, or `state: absent`",
            )
        for name, why in REFUSED.items():
            if name in raw:
                self.err(
                    (*path, name), f"`{name}` cannot be honoured on a Swarm: {why}", at_key=True
                )
        for name in NOT_MAPPED:
            if name in raw:
                self.err(
                    (*path, name),
                    f"`{name}` is not mapped to a Swarm service yet: it would be dropped",
                    "remove it for `target: swarm` (docs/swarm.md lists the mapped fields)",
                    at_key=True,
                )
        for i, dep in enumerate(c.depends_on):
            if dep.condition != "started":
                self.err(
                    self._dep_path(raw, path, i, dep.target),
                    f"depends_on condition `{dep.condition}` cannot be honoured on a Swarm: a "
                    "Swarm starts and restarts tasks by itself; only the creation order "
                    "(`started`) is kept",
                )
        for i, p in enumerate(c.ports):
            if p.host_port_end is not None:
                self.err(
                    (*path, "ports", i),
                    "a host port range cannot be honoured on a Swarm: a service publishes one "
                    "port for all its replicas",
                    "publish one port (ingress balances it over the replicas)",
                )
            if p.host_ip:
                self.err(
                    (*path, "ports", i),
                    "`host_ip` cannot be honoured on a Swarm: a published port listens on "
                    "every address of a node",
                )
        update = c.update
        if "update" in raw:
            update = self.update(raw["update"], (*path, "update"))
        endpoint = raw.get("endpoint_mode")
        restart = c.restart
        if "restart" not in raw:  # Swarm's own default: restart any task that ends
            restart = S.RestartPolicy("always")
        return structs.replace(
            c,
            update=update,
            endpoint_mode=endpoint if isinstance(endpoint, str) else None,
            restart=restart,
        )

    def _dep_path(self, raw: Mapping[str, Any], path: PathT, i: int, target: str) -> PathT:
        deps = raw.get("depends_on")
        if isinstance(deps, dict):
            return (*path, "depends_on", target)
        return (*path, "depends_on", i)

    def update(self, value: Any, path: PathT) -> S.UpdatePolicy | None:
        d = self.mapping(value, path)
        order = d.get("order")
        action = d.get("failure_action", "rollback")
        monitor = self.duration(d, "monitor", path)
        parallelism = self.integer(d, "parallelism", path, 1, minimum=0)
        return S.UpdatePolicy(
            order=order if isinstance(order, str) else None,
            failure_action=action if isinstance(action, str) else "rollback",
            monitor=5.0 if monitor is None else monitor,
            parallelism=1 if parallelism is None else parallelism,
        )

    def network(self, key: str, network: S.NetworkSpec) -> None:
        raw = (self.data.get("networks") or {}).get(key)
        if network.external or not isinstance(raw, dict) or "driver" not in raw:
            return
        if network.driver != "overlay":
            self.err(
                ("networks", key, "driver"),
                f"driver `{network.driver}` cannot span a Swarm: its networks are overlay networks",
                "remove `driver` (overlay is the default with `target: swarm`)",
            )

    def image(self, spec: S.Spec, image: S.ImageSpec) -> S.ImageSpec:
        if image.kind == "pull":
            return image
        raw = (self.data.get("images") or {}).get(image.key)
        written = isinstance(raw, dict) and "tag" in raw
        if not written and spec.registry:
            tag = f"{spec.registry}/{default_image_tag(spec.project, image.key)}"
            return structs.replace(image, reference=tag)
        if not _has_registry(image.reference):
            self.err(
                ("images", image.key),
                f"a Swarm node pulls images itself, so {image.reference} must be pushed to a "
                "registry every node can reach",
                "set `registry: 127.0.0.1:5000` at the top of the spec, or a full `tag` "
                "such as 127.0.0.1:5000/NAME:TAG",
                at_key=True,
            )
        return image


def _has_registry(reference: str) -> bool:
    first = reference.split("/", 1)[0]
    return "/" in reference and ("." in first or ":" in first or first == "localhost")
