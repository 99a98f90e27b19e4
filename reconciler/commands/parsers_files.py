"""Arguments for reading Compose files (argparse only, like commands/parsers.py, which uses
them): -f/--file (repeatable), --env-file, --profile; and the `convert` command's."""

from __future__ import annotations

import argparse


def add_file_args(p: argparse.ArgumentParser, short_file: bool = True) -> None:
    """-f FILE (repeatable: Compose files merged in order), --env-file, --profile."""
    names = ("-f", "--file") if short_file else ("--file",)
    p.add_argument(
        *names,
        dest="files",
        action="append",
        default=[],
        metavar="FILE",
        help="a spec or Compose file (repeatable: Compose files merged in order, like "
        "docker compose -f)",
    )
    p.add_argument(
        "--env-file",
        dest="env_files",
        action="append",
        default=[],
        metavar="FILE",
        help="Compose: variables for interpolation, instead of the .env beside the file",
    )
    p.add_argument(
        "--profile",
        dest="profiles",
        action="append",
        default=[],
        metavar="NAME",
        help="Compose: enable the services of this profile (repeatable; or COMPOSE_PROFILES)",
    )


def add_convert_spec(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "spec",
        metavar="COMPOSE",
        nargs="?",
        help="the Compose file (default: compose.yaml, ... in this folder)",
    )
    add_file_args(p)


def convert(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "convert",
        help="print the spec v1 equivalent of a Compose file",
        description="Read Compose files (as plan and apply do) and write the equivalent spec "
        "v1, commented where a value was rewritten. Both give the same plan.",
    )
    add_convert_spec(p)
    p.add_argument(
        "-p", "--project", default=None, help="the project name (like docker compose -p)"
    )
    p.add_argument("-o", "--output-file", dest="out", metavar="FILE", help="write here")
    return p
