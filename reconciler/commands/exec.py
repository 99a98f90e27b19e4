"""`reconciler exec SPEC NAME [--replica N] [-p PROJECT] -- CMD...`: run a command in one of
the project's running containers, like `docker exec`.

On a terminal it gets a TTY and stdin (`docker exec -it`); elsewhere its output is streamed and
stdin is forwarded only with -i. The command's exit code is exec's exit code. An unknown name
or a container that is not running is an error (exit 1).
"""

from __future__ import annotations

import argparse
import sys

from reconciler.commands import add_spec_arg
from reconciler.commands.common import add_project_arg


def _add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replica", type=int, default=None, metavar="N", help="which replica (default 1)"
    )
    add_project_arg(p)
    p.add_argument("-T", "--no-tty", action="store_true", help="no TTY, even on a terminal")
    p.add_argument(
        "-i", "--interactive", action="store_true", help="forward stdin when it is not a terminal"
    )
    p.add_argument("-u", "--user", help="run as this user (name or uid[:gid])")
    p.add_argument("-w", "--workdir", help="working directory inside the container")
    p.add_argument(
        "-e",
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set an environment variable (repeatable)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exec",
        help="run a command in a container of the project",
        description="Run a command in a running container of the project, like docker exec. "
        "Put the command after `--`: reconciler exec spec.yaml web -- sh",
    )
    add_spec_arg(p)
    p.add_argument("name", metavar="NAME", help="a containers key, or a container name")
    _add_options(p)
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command")
    p.set_defaults(handler=run, parser=p)


def split_command(args: argparse.Namespace) -> argparse.Namespace:
    """Options written after NAME and before `--` are parsed; everything after the first `--`
    (or from the first word that is not an option) is the command, kept verbatim."""
    tokens = list(args.command)
    options = argparse.ArgumentParser(add_help=False)
    _add_options(options)
    takes_value = {
        opt for action in options._actions if action.nargs != 0 for opt in action.option_strings
    }
    head: list[str] = []
    while tokens and tokens[0] != "--" and tokens[0].startswith("-"):
        token = tokens.pop(0)
        head.append(token)
        if token in takes_value and tokens:
            head.append(tokens.pop(0))
    if tokens and tokens[0] == "--":
        tokens.pop(0)
    parsed, unknown = options.parse_known_args(head, namespace=args)
    parser = getattr(args, "parser", None)
    if unknown and parser is not None:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not tokens and parser is not None:
        parser.error("no command given (reconciler exec SPEC NAME -- CMD...)")
    parsed.command = tokens
    return parsed


def run(args: argparse.Namespace) -> int:
    import os

    from reconciler.commands.common import connect, load
    from reconciler.ui import attach

    args = split_command(args)
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep:
            value = os.environ.get(key, "")
        env[key] = value
    spec = load(args)
    with connect() as engine:
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
