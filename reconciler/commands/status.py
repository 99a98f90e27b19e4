"""`reconciler status SPEC` (or `status -p NAME` without a spec: what exists, by its labels
alone; whether it is up to date cannot be known): the project's containers as the engine sees
them, and whether each is up to date with the spec (tables from ui/status.py, or JSON with
--output json), the images it holds for containers of others, and what a running
`reconciler watch` of the project reports (watch/statefile.py)."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load_or_project
from reconciler.commands.images import spec_references
from reconciler.model.state import State
from reconciler.plan.planner import plan
from reconciler.reconcile import build_sources, observe, registry_digests
from reconciler.ui.listing import (
    held_for_others,
    image_list_rows,
    label_rows,
    print_image_list,
    print_ps,
    ps_rows,
)
from reconciler.ui.output import print_json, use_color, wants_json
from reconciler.ui.status import (
    container_rows,
    image_rows,
    print_containers,
    print_images,
    print_resources,
    resource_rows,
)
from reconciler.ui.status_swarm import print_services, service_rows
from reconciler.watch.statefile import annotate_rows, read_state, state_lines


def run(args: argparse.Namespace) -> int:
    spec, project = load_or_project(args)
    swarm = spec is not None and spec.target == "swarm"
    with connect() as engine:
        state = observe(engine, project, swarm)
        remote = registry_digests(spec, engine) if spec is not None else None
    held = held_for_others(image_list_rows(state, spec_references(spec)))
    if spec is None:
        return _by_labels(args, project, state, held)
    result = plan(spec, state, sources=build_sources(spec), remote=remote)
    if swarm:  # services and their tasks (ui/status_swarm.py)
        services = service_rows(spec, state, result)
        if wants_json(args):
            print_json({"project": spec.project, "target": "swarm", "services": services})
        else:
            print_services(spec.project, services, use_color(args))
        return 0
    table = container_rows(spec, state, result)
    images = image_rows(state, result)
    watch = read_state(spec.project)  # a running `reconciler watch` of this project, if any
    annotate_rows(table, watch)
    resources = resource_rows(spec, state, result)
    if wants_json(args):
        print_json(
            {
                "project": spec.project,
                "containers": table,
                "images": images,
                **resources,
                "held_for_others": held,
                "watch": watch,
            }
        )
        return 0
    if not table:
        print(f"Project {spec.project}: no containers.")
    else:
        print_containers(spec.project, table, use_color(args))
    if images:
        print_images(images, use_color(args))
    print_resources(resources, use_color(args))
    if held:
        print_image_list(held, use_color(args), title="images held for containers of others")
    for line in state_lines(watch):
        print(line)
    return 0


def _by_labels(args: argparse.Namespace, project: str, state: State, held: list) -> int:
    """status -p NAME without a spec: the containers, networks and volumes by their labels."""
    table = label_rows(state)
    watch = read_state(project)
    annotate_rows(table, watch)
    networks = sorted(state.networks)
    volumes = sorted(state.volumes)
    if wants_json(args):
        print_json(
            {
                "project": project,
                "spec": None,
                "containers": table,
                "networks": networks,
                "volumes": volumes,
                "held_for_others": held,
                "watch": watch,
            }
        )
        return 0
    print(f"Project {project}, from its labels (no spec: up to date unknown).")
    if table:
        print_ps(ps_rows(state), use_color(args))
    else:
        print(f"Project {project}: no containers.")
    if networks:
        print(f"networks: {', '.join(networks)}")
    if volumes:
        print(f"volumes: {', '.join(volumes)}")
    if held:
        print_image_list(held, use_color(args), title="images held for containers of others")
    for line in state_lines(watch):
        print(line)
    return 0
