"""Swarm operations of the Docker adapter (target swarm): observe services, tasks and nodes in
a constant number of calls; create, update, scale and remove services; pin an image to the
digest a registry knows (pushing the project's own images first).

`ServiceOps` is composed into `engine.Engine` (adapter.py); execute/services.py reaches it
through `EnginePort` (ServicesPort). Bodies and raw -> model values are in translate_swarm.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.engine.client import EngineClient
from reconciler.engine.translate_swarm import (
    observed_node,
    observed_service,
    observed_task,
    service_body,
)
from reconciler.errors import EngineError, ImageError, NotFound
from reconciler.model.labels import LABEL_PROJECT
from reconciler.model.swarm import ObservedService, ObservedTask, SwarmState

_NOT_MANAGER = (
    "the engine at {address} is not a Swarm manager ({why}); `target: swarm` needs one: run "
    "`docker swarm init` there, or `scripts/swarm-setup.sh manager` (docs/swarm.md)"
)


class ServiceOps(EngineClient):
    """Operations on Swarm services."""

    def observe_swarm(self, project: str) -> SwarmState:
        """The project's services with their tasks, the names of other services, the nodes
        and this engine's node: four list calls whatever the number of services."""
        with self._translate("observe the Swarm"):
            info = self._api.info()
            swarm = info.get("Swarm") or {}
            if not swarm.get("ControlAvailable"):
                why = f"Swarm state {swarm.get('LocalNodeState') or 'inactive'}"
                raise EngineError(_NOT_MANAGER.format(address=self.address, why=why))
            raw_services = self._api.services()
            raw_tasks = self._api.tasks()
            raw_nodes = self._api.nodes()
        tasks: dict[str, list[ObservedTask]] = {}
        for raw in raw_tasks or ():
            task = observed_task(raw)
            tasks.setdefault(task.service_id, []).append(task)
        services: dict[str, ObservedService] = {}
        foreign: dict[str, str] = {}
        for raw in raw_services or ():
            labels = (raw.get("Spec") or {}).get("Labels") or {}
            if labels.get(LABEL_PROJECT) == project:
                service = observed_service(raw, tasks.get(raw.get("ID", ""), ()))
                services[service.key or service.name] = service
            else:
                foreign[(raw.get("Spec") or {}).get("Name", "")] = raw.get("ID", "")
        nodes = {n.id: n for n in (observed_node(raw) for raw in raw_nodes or ())}
        return SwarmState(
            node_id=swarm.get("NodeID", ""),
            services=services,
            foreign_names=foreign,
            nodes=nodes,
        )

    def inspect_service(self, service_id: str) -> ObservedService:
        """The service and its tasks (two calls); NotFound when it is gone."""
        with self._translate(f"inspect service {service_id[:12]}"):
            raw = self._api.inspect_service(service_id)
            raw_tasks = self._api.tasks(filters={"service": service_id})
        return observed_service(raw, (observed_task(t) for t in raw_tasks or ()))

    def create_service(
        self,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        replicas: int,
        image: str,
    ) -> str:
        body = service_body(config, labels, replicas, image)
        with self._translate(f"cannot create service {config['name']}"):
            created = self._api._result(
                self._api._post_json(self._api._url("/services/create"), data=body), True
            )
        return str(created.get("ID", ""))

    def update_service(
        self,
        service_id: str,
        version: int,
        config: Mapping[str, Any],
        labels: Mapping[str, str],
        replicas: int,
        image: str,
    ) -> None:
        """Replace the service's spec (a rolling update when the task template changed)."""
        body = service_body(config, labels, replicas, image)
        url = self._api._url("/services/{0}/update", service_id)
        with self._translate(f"cannot update service {config['name']}"):
            self._api._result(
                self._api._post_json(url, data=body, params={"version": version}), True
            )

    def scale_service(self, service_id: str, replicas: int) -> None:
        """Set the replicas, keeping the rest of the spec as the engine has it."""
        with self._translate(f"cannot scale service {service_id[:12]}"):
            raw = self._api.inspect_service(service_id)
            spec = dict(raw.get("Spec") or {})
            spec["Mode"] = {"Replicated": {"Replicas": replicas}}
            url = self._api._url("/services/{0}/update", service_id)
            version = (raw.get("Version") or {}).get("Index")
            self._api._result(
                self._api._post_json(url, data=spec, params={"version": version}), True
            )

    def remove_service(self, service_id: str) -> None:
        """Gone is fine."""
        try:
            with self._translate(f"cannot remove service {service_id[:12]}"):
                self._api.remove_service(service_id)
        except NotFound:
            pass

    def service_leftovers(self, service_id: str) -> int:
        """Tasks and local containers a removed service still has (0: all gone)."""
        with self._translate(f"list tasks of service {service_id[:12]}"):
            # all tasks: a filter on a removed service's id is an error, not an empty list
            tasks = [t for t in self._api.tasks() or () if t.get("ServiceID") == service_id]
            containers = self._api.containers(
                all=True, filters={"label": f"com.docker.swarm.service.id={service_id}"}
            )
        return len(tasks or ()) + len(containers or ())

    def pinned_image(self, reference: str, push: bool = False) -> str:
        """`reference@sha256:...` as the registry knows it (what `docker stack deploy` runs).
        With `push`, the image is pushed first (the project built or committed it)."""
        repository, tag = _split(reference)
        if push:
            with self._translate(f"cannot push {reference}"):
                for event in self._api.push(repository, tag=tag, stream=True, decode=True):
                    if isinstance(event, dict) and event.get("error"):
                        raise ImageError(f"cannot push {reference}: {event['error']}")
        with self._translate(f"inspect image {reference}"):
            raw = self._api.inspect_image(reference)
        for digest in raw.get("RepoDigests") or ():
            repo, _, sha = digest.partition("@")
            if repo == repository and sha:
                return f"{reference}@{sha}"
        raise ImageError(
            f"{reference} has no digest from a registry, so Swarm nodes cannot pull it: push it "
            "to a registry every node can reach (`registry:` in the spec) or pull it from one"
        )


def _split(reference: str) -> tuple[str, str]:
    """`localhost:5000/a/b:1` -> (`localhost:5000/a/b`, `1`); no tag -> latest."""
    reference = reference.split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = reference.rpartition(":")
        return repository, tag
    return reference, "latest"
