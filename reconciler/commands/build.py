"""`reconciler build SPEC [NAME...] [--no-cache]`: build the spec's images (those the named
containers need, or all) that are out of date, and what they need first (missing bases are
pulled, commits made); with --no-cache every selected build runs again, without the engine's
layer cache. Containers are not touched: the next apply replaces those whose
image changed."""

from __future__ import annotations

import argparse

from reconciler.commands.imagework import run_images
from reconciler.model.plan import Action


def run(args: argparse.Namespace) -> int:
    return run_images(args, Action.BUILD, (Action.BUILD, Action.COMMIT, Action.PULL))
