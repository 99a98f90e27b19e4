"""`reconciler exec SPEC NAME [--replica N] [-p PROJECT] -- CMD...`: run a command in one of
the project's running containers, like `docker exec`.

On a terminal it gets a TTY and stdin (`docker exec -it`); elsewhere its output is streamed and
stdin is forwarded only with -i. The command's exit code is exec's exit code. An unknown name
or a container that is not running is an error (exit 1). Without a command: `sh` (the image's
shell; busybox, alpine and debian images all have it).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from reconciler.commands.common import connect, load
from reconciler.commands.parsers import add_exec_options
from reconciler.ui import attach, attach_swarm

DEFAULT_SHELL = ("sh",)
USAGE = 64  # as cli.EXIT_USAGE


class _UsageParser(argparse.ArgumentParser):
    """Parses the options after NAME; its errors are usage errors of the command (exit 64,
    cli._Parser), never argparse's own exit 2 ("changes present")."""

    def __init__(self, owner: argparse.ArgumentParser | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owner = owner

    def error(self, message: str) -> NoReturn:
        if self.owner is not None:
            self.owner.error(message)
        self.exit(USAGE, f"reconciler exec: error: {message}\n")


def split_command(args: argparse.Namespace) -> argparse.Namespace:
    """Options written after NAME and before `--` are parsed; everything after the first `--`
    (or from the first word that is not an option) is the command, kept verbatim."""
    tokens = list(args.command)
    parser = getattr(args, "parser", None)
    options = _UsageParser(parser, add_help=False)
    add_exec_options(options)
    takes_value = {
        opt for action in options._actions if action.nargs != 0 for opt in action.option_strings
    }
    head: list[str] = []
    while tokens and tokens[0] != "--" and tokens[0].startswith("-"):
        token = tokens.pop(0)
        head.append(token)
        if token in takes_value and tokens and tokens[0] != "--":  # `-e --` lacks its value
            head.append(tokens.pop(0))
    if tokens and tokens[0] == "--":
        tokens.pop(0)
    parsed, unknown = options.parse_known_args(head, namespace=args)
    if unknown and parser is not None:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    parsed.command = tokens or list(DEFAULT_SHELL)  # no command: a shell, as users expect
    return parsed


def run(args: argparse.Namespace) -> int:
    if args.spec and (args.files or not os.path.isfile(args.spec)):  # -f: SPEC is a NAME
        # `exec web -- sh` without SPEC: argparse took the name for SPEC (and `--` away)
        args.command = [args.name, *args.command]
        args.spec, args.name = None, args.spec
    args = split_command(args)
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep:
            value = os.environ.get(key, "")
        env[key] = value
    spec = load(args)
    with connect() as engine:
        if spec.target == "swarm":  # a running task of this node (ui/attach_swarm.py)
            container = attach_swarm.find_task(engine, spec.project, args.name, args.replica)
        else:
            containers = attach.project_containers(engine, spec.project)
            container = attach.find_container(containers, spec.project, args.name, args.replica)
            attach.require_running(container)
        terminal = attach.is_terminal(sys.stdin) and attach.is_terminal(sys.stdout)
        terminal = terminal and not args.no_tty
        options = {"user": args.user, "workdir": args.workdir, "env": env}
        if terminal:
            argv = attach.docker_cli_exec_argv(
                container.id, args.command, interactive=True, tty=True, **options
            )
            if argv is not None:
                engine.close()
                sys.stdout.flush()
                os.execvp(argv[0], argv)  # never returns
            return attach.exec_tty(engine, container, args.command, **options)
        stdin = getattr(sys.stdin, "buffer", None) if args.interactive else None
        return attach.exec_streamed(engine, container, args.command, stdin=stdin, **options)
