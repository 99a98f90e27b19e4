"""`reconciler pull SPEC [NAME...]`: pull the spec's images (those the named containers use,
or all), present ones again, like `docker compose pull`; `policy: never` images are left
alone. Containers are not touched: the next apply replaces those whose image changed."""

from __future__ import annotations

import argparse

from reconciler.commands.imagework import run_images
from reconciler.model.plan import Action


def run(args: argparse.Namespace) -> int:
    return run_images(args, Action.PULL, (Action.PULL,))
