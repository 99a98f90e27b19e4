"""`reconciler status SPEC`: the project's containers as the engine sees them, and whether
each is up to date with the spec (tables from ui/status.py, or JSON with --output json), and
what a running `reconciler watch` of the project reports (watch/statefile.py)."""

from __future__ import annotations

import argparse

from reconciler.buildctx.context import build_sources
from reconciler.commands.common import connect, load
from reconciler.plan.planner import plan
from reconciler.ui.output import print_json, use_color, wants_json
from reconciler.ui.status import (
    container_rows,
    image_rows,
    print_containers,
    print_images,
    print_resources,
    resource_rows,
)
from reconciler.watch.statefile import annotate_rows, read_state, state_lines


def run(args: argparse.Namespace) -> int:
    spec = load(args)
    with connect() as engine:
        state = engine.observe(spec.project)
    result = plan(spec, state, sources=build_sources(spec))
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
    for line in state_lines(watch):
        print(line)
    return 0
