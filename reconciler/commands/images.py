"""`reconciler images [SPEC] [-p NAME]`: the project's images (built or committed, and those
its spec pulls), with the containers using them, and the images it still holds only because a
container outside the project uses them (ui/listing.py); `-o json` for machines. Without SPEC,
`-p NAME`: the labelled images (what it built or committed) and those its containers run."""

from __future__ import annotations

import argparse

from reconciler.commands.common import connect, load_or_project
from reconciler.model.spec import Spec
from reconciler.ui.listing import image_list_rows, print_image_list
from reconciler.ui.output import print_json, use_color, wants_json


def spec_references(spec: Spec | None) -> list[str]:
    """The image references a spec uses: its `images:` and what containers name directly."""
    if spec is None:
        return []
    refs = {i.reference for i in spec.images.values()}
    refs |= {spec.image_reference(c.image) for c in spec.containers.values()}
    return sorted(refs)


def run(args: argparse.Namespace) -> int:
    spec, project = load_or_project(args)
    with connect() as engine:
        state = engine.observe(project)
    rows = image_list_rows(state, spec_references(spec))
    if wants_json(args):
        print_json({"project": project, "images": rows})
    elif not rows:
        print(f"Project {project}: no images.")
    else:
        print_image_list(rows, use_color(args), title=f"project {project}")
    return 0
