"""The arguments of every subcommand, declared without importing any command module (argparse
only), so that `reconciler --help` and a usage error stay fast. cli.py builds its parser from
`COMMANDS`, then imports only the chosen command's module (reconciler.commands.<name>) and
calls its `run(args)`. Each command module holds its `run` and imports its work at the top."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from reconciler.commands.parsers_files import add_file_args, convert

Declare = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], argparse.ArgumentParser]

# --- shared options ------------------------------------------------------------------------------


RENEW_HELP = "a replaced container gets fresh anonymous volumes, not the old one's data"


def add_spec_arg(p: argparse.ArgumentParser, short_file: bool = True) -> None:
    """SPEC (optional: the folder's reconciler.yaml or Compose file) and the Compose inputs."""
    p.add_argument(
        "spec",
        metavar="SPEC",
        nargs="?",
        help="the spec file: spec v1 or a Compose file (default: reconciler.yaml, compose.yaml, "
        "compose.yml, docker-compose.yaml or docker-compose.yml in this folder)",
    )
    add_file_args(p, short_file)


def add_output_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        choices=("text", "json"),
        default=argparse.SUPPRESS,  # the root parser's default: also accepted before COMMAND
        help="output format (json: for machines)",
    )


def add_project_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-p",
        "--project",
        default=argparse.SUPPRESS,  # the root parser's default: also accepted before COMMAND
        help="override the spec's project name (like docker compose -p)",
    )
    p.add_argument(
        "--target",
        choices=("engine", "swarm"),
        default=None,
        help="override the spec's target: engine (containers) or swarm (services; docs/swarm.md)",
    )


def seconds(text: str) -> float:
    """argparse type for a duration in seconds: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, not {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type for a count that may be 0 (`logs -n 0`), never negative."""
    return _whole_number(text, 0)


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, not {text!r}")
    return value


def add_adopt_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--adopt-compose",
        action="store_true",
        help="take over the containers `docker compose up` created for this project: each is "
        "replaced by the spec's container (kept until the new one runs), named volumes kept",
    )


def add_pass_args(p: argparse.ArgumentParser) -> None:
    """Options of a reconcile pass, shared by apply and watch."""
    p.add_argument("--no-prune", action="store_true", help="keep containers no longer in the spec")
    p.add_argument(
        "--parallel",
        type=positive_int,
        default=8,
        metavar="N",
        help="actions run at once (default 8)",
    )
    p.add_argument(
        "--wait-timeout",
        type=seconds,
        default=120.0,
        metavar="SECONDS",
        help="deadline for health checks and dependency conditions (default 120)",
    )
    p.add_argument(
        "--settle",
        type=seconds,
        default=1.0,
        metavar="SECONDS",
        help="a new or restarted container without a healthcheck must still be running this "
        "long after its start, else it is rolled back (default 1)",
    )


def _project_command(
    sub: argparse._SubParsersAction, name: str, help: str, spec_optional: bool = False
) -> argparse.ArgumentParser:
    """A command on a spec's project: SPEC, -p/--project and -o/--output, in that order.
    `spec_optional`: without SPEC the command works on -p's project from its labels alone."""
    p = sub.add_parser(name, help=help)
    add_spec_arg(p)
    if spec_optional:  # no SPEC, -f or default file: -p NAME, the project by its labels alone
        p.set_defaults(parser=p)  # commands/common.load_or_project: else a usage error
    add_project_arg(p)
    add_output_arg(p)
    return p


# --- one declaration per command, in the order of `reconciler --help` ---------------------------


def validate(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "validate",
        help="check a spec (schema, references, ports, files) without touching the engine",
        description="Check a spec and report every problem at once, with its location.",
    )
    add_spec_arg(p)
    add_project_arg(p)
    add_output_arg(p)
    return p


def plan(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = _project_command(sub, "plan", help="show the changes apply would make")
    p.add_argument("--no-prune", action="store_true", help="keep containers no longer in the spec")
    add_adopt_arg(p)
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when there is nothing to do, 2 when there are changes, 1 on error",
    )
    return p


def apply(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = _project_command(sub, "apply", help="converge the engine to the spec (one pass)")
    add_adopt_arg(p)
    p.add_argument("-V", "--renew-anon-volumes", action="store_true", help=RENEW_HELP)
    add_names_arg(p, "only these containers and what they need (default all)")
    add_pass_args(p)
    p.add_argument("-v", "--verbose", action="store_true", help="show full pull and build logs")
    return p


def watch(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = _project_command(
        sub,
        "watch",
        help="keep the engine converged to the spec (re-apply on changes, repair drift)",
    )
    add_pass_args(p)
    p.add_argument(
        "--resync",
        type=seconds,
        default=30.0,
        metavar="SECONDS",
        help="run a pass at least this often, whatever happened (default 30; 0: never)",
    )
    p.add_argument(
        "--debounce",
        type=seconds,
        default=0.3,
        metavar="SECONDS",
        help="quiet time after a file edit before the pass (default 0.3)",
    )
    p.add_argument(
        "--backoff-max",
        type=seconds,
        default=300.0,
        metavar="SECONDS",
        help="longest crash-loop restart delay (default 300; delays start at 1 s and double)",
    )
    p.add_argument(
        "--backoff-reset",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="a container up this long is no longer crash-looping (default 10)",
    )
    p.add_argument(
        "--metrics-addr",
        metavar="HOST:PORT",
        help="serve /healthz and Prometheus /metrics here (e.g. 127.0.0.1:9102)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log reconnect attempts too")
    return p


def status(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return _project_command(
        sub,
        "status",
        help="show the project's containers and whether they match",
        spec_optional=True,
    )


def destroy(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = _project_command(
        sub,
        "destroy",
        help="remove the project's containers and networks (and more on request)",
        spec_optional=True,
    )
    p.add_argument("--volumes", action="store_true", help="also remove the project's volumes")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before removing volumes")
    p.add_argument(
        "--images",
        action="store_true",
        help="also remove the images the project built or committed, and untag those its "
        "images: pull (when no other container uses them)",
    )
    p.add_argument(
        "--parallel", type=positive_int, default=8, metavar="N", help="removals run at once"
    )
    return p


def add_exec_options(p: argparse.ArgumentParser) -> None:
    """exec's options; also parsed again by commands/exec.split_command from the words
    between NAME and `--`."""
    p.add_argument(
        "--replica",
        type=positive_int,
        default=None,
        metavar="N",
        help="which replica (default 1)",
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


def exec_(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "exec",
        help="run a command in a container of the project",
        description="Run a command in a running container of the project, like docker exec. "
        "Put the command after `--`: reconciler exec spec.yaml web -- sh. Without a command: "
        "a shell (sh).",
    )
    add_spec_arg(p)
    p.add_argument("name", metavar="NAME", help="a containers key, or a container name")
    add_exec_options(p)
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command")
    p.set_defaults(parser=p)
    return p


def logs(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "logs",
        help="show (and follow) the output of the project's containers",
        description="Show the output of the project's containers, each line prefixed with its "
        "container name.",
    )
    add_spec_arg(p, short_file=False)  # -f is --follow here
    p.add_argument(
        "names", nargs="*", metavar="NAME", help="containers keys or container names (default all)"
    )
    add_project_arg(p)
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new output")
    p.add_argument(
        "-n",
        "--tail",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="only the last N lines of each",
    )
    p.add_argument("-t", "--timestamps", action="store_true", help="show the engine's timestamps")
    return p


def schema(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "schema",
        help="print the spec's JSON Schema",
        description="Print the JSON Schema (draft 2020-12) of the spec format. Editors use it "
        "via `# yaml-language-server: $schema=...`.",
    )
    return p


def add_names_arg(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help=help)


def ps(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    help = "list the project's containers, stopped ones too (like docker compose ps)"
    return _project_command(sub, "ps", help=help, spec_optional=True)


def images(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    help = "list the project's images, and those it holds for containers of others"
    return _project_command(sub, "images", help=help, spec_optional=True)


def restart(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = _project_command(sub, "restart", help="restart the project's containers")
    add_names_arg(p, "containers keys or container names (default all)")
    help = "how long a stop waits before it kills (default: the container's stop_timeout)"
    p.add_argument("-t", "--timeout", type=seconds, metavar="SECONDS", help=help)
    return p


def _image_command(
    sub: argparse._SubParsersAction, name: str, help: str
) -> argparse.ArgumentParser:
    """pull and build: NAME... (the images those containers need), --parallel, -v."""
    p = _project_command(sub, name, help=help)
    add_names_arg(p, "only the images these containers need (default all)")
    p.add_argument("--parallel", type=positive_int, default=8, metavar="N", help=f"{name}s at once")
    p.add_argument("-v", "--verbose", action="store_true", help=f"show full {name} logs")
    return p


def pull(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return _image_command(sub, "pull", help="pull the spec's images (present ones again)")


def build(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = _image_command(sub, "build", help="build the spec's images that are out of date")
    p.add_argument("--no-cache", action="store_true", help="rebuild all, without the cache")
    return p


def diff(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = _project_command(sub, "diff", help="show a container's filesystem changes (docker diff)")
    p.add_argument("name", metavar="NAME", help="a containers key, or a container name")
    p.add_argument("--replica", type=positive_int, metavar="N", help="which replica (default 1)")
    return p


def completion(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    help = "print a shell completion script (bash, zsh or fish)"
    p = sub.add_parser("completion", help=help, description=help + ", generated by shtab.")
    p.add_argument("shell", metavar="SHELL", choices=("bash", "zsh", "fish"), help="bash|zsh|fish")
    return p


# (command name = module reconciler.commands.<name>, its declaration), in --help order.
COMMANDS: tuple[tuple[str, Declare], ...] = (
    ("validate", validate),
    ("plan", plan),
    ("apply", apply),
    ("watch", watch),
    ("status", status),
    ("ps", ps),
    ("images", images),
    ("destroy", destroy),
    ("restart", restart),
    ("pull", pull),
    ("build", build),
    ("exec", exec_),
    ("diff", diff),
    ("logs", logs),
    ("convert", convert),
    ("schema", schema),
    ("completion", completion),
)


def register_all(sub: argparse._SubParsersAction) -> None:
    """Declare every subcommand; the chosen one's name lands in `args.command_module`."""
    for name, declare in COMMANDS:
        declare(sub).set_defaults(command_module=name)
