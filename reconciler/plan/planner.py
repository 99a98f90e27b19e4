"""plan(spec, state) -> Plan: the only place that decides what to do. Pure: no I/O.

Called by reconcile.py (apply, plan, status, watch, destroy). Puts together the changes of
every kind, each decided by its own module (images, networks, volumes, containers, image
removals), in execution order, with the located problems that forbid applying.
"""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import Struct

from reconciler.errors import Problem
from reconciler.model.build import BuildSource
from reconciler.model.plan import Action, Plan
from reconciler.model.registry import RemoteDigest
from reconciler.model.spec import Spec
from reconciler.model.state import State
from reconciler.plan import (
    host_ports,
    image_removals,
    images,
    kept,
    networks,
    pull_always,
    services,
    volumes,
)
from reconciler.plan.containers import destroy_containers, plan_containers
from reconciler.plan.resources import plan_destroy_resources


class PlanOptions(Struct, frozen=True):
    """How `plan()` treats what the spec does not name: set by apply, plan and watch."""

    prune: bool = True  # remove project containers whose key left the spec
    adopt_compose: bool = False  # replace the containers Compose created for the project


def plan(
    spec: Spec,
    state: State,
    options: PlanOptions = PlanOptions(),
    sources: Mapping[str, BuildSource] | None = None,
    remote: Mapping[str, RemoteDigest] | None = None,
) -> Plan:
    """`sources`: images key -> BuildSource, computed before planning (I/O) by
    reconcile.make_plan; without it, a built image that is present counts as up to date."""
    errors: list[Problem] = []
    warnings: list[str] = []
    image_changes = images.plan_images(spec, state, errors, sources, remote)
    warnings += pull_always.unreachable_warnings(state, remote)
    pending_images = {
        c.target.name: c.address for c in image_changes if c.action is not Action.UNCHANGED
    }
    resource_changes = networks.plan_networks(spec, state, errors)
    resource_changes += volumes.plan_volumes(spec, state, errors, warnings)
    if spec.target == "swarm":  # services instead of containers (plan/services.py)
        container_changes = services.plan_services(
            spec, state, options.prune, pending_images, errors, warnings
        )
        removals = services.plan_service_network_removals(spec, state, container_changes)
    else:
        errors += host_ports.foreign_port_clashes(spec, state)
        container_changes = plan_containers(
            spec, state, options.prune, pending_images, errors, warnings, options.adopt_compose
        )
        removals = networks.plan_network_removals(spec, state, container_changes)
    removals += image_removals.plan_image_removals(
        spec, state, image_changes, container_changes, warnings, options.prune, sources
    )
    changes = (
        tuple(image_changes) + tuple(resource_changes) + tuple(container_changes) + tuple(removals)
    )
    return Plan(
        project=spec.project,
        changes=changes,
        warnings=tuple(warnings),
        errors=tuple(sorted(errors, key=Problem.sort_key)),
    )


class DestroyOptions(Struct, frozen=True):
    """What `plan_destroy()` removes besides containers and networks: set by `destroy`
    (reconcile.destroy_options)."""

    volumes: bool = False  # also remove the project's named volumes
    images: bool = False  # also remove the project's images
    keep: frozenset[str] = frozenset()  # network/volume names never removed (the externals)
    # with `images`: the references the spec pulls (image_removals.pulled_references),
    # untagged when no container outside the project uses them
    pulled: tuple[str, ...] = ()


def plan_destroy(project: str, state: State, options: DestroyOptions = DestroyOptions()) -> Plan:
    """Remove every container labelled with the project (highest replica first), then its
    networks (and volumes and images on request)."""
    service_changes = services.destroy_services(state)  # target swarm
    containers = destroy_containers(state)
    if options.volumes:
        containers = kept.with_anonymous_volumes(containers)
    changes = service_changes + list(containers)
    changes += services.after_services(
        plan_destroy_resources(state, containers, options.volumes, options.keep), service_changes
    )
    warnings: list[str] = []
    if options.images:
        image_changes, warnings = image_removals.plan_destroy_images(
            project, services.without_task_users(state), containers, options.pulled
        )
        changes += services.after_services(image_changes, service_changes)
    notes = kept.kept_notes(state, options.volumes, options.images, options.keep)
    return Plan(project=project, changes=tuple(changes), warnings=tuple(warnings), kept=notes)
