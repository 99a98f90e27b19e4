"""Command-line interface: argument parsing and output only.

`main` parses the arguments (declared in commands/parsers.py, which imports nothing else),
then imports the one module of the chosen command (reconciler.commands.<name>) and runs it:
`reconciler --help` and `validate` start fast. Exit codes follow Terraform: 0 success, 1 error,
2 (with `plan --detailed-exitcode`) changes present. Entry point of the `reconciler` script
and of `python -m reconciler`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import NoReturn

from reconciler import __version__
from reconciler.commands.parsers import COMMANDS, register_all
from reconciler.errors import ReconcilerError
from reconciler.ui.output import report_error

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
NO_COLOR_HELP = "no colours even on a terminal (also NO_COLOR)"
EXIT_USAGE = 64  # argparse itself uses 2; usage errors are remapped so 2 means "changes"
# Commands whose first engine read is observe outside any lock: engine/readahead.py sends
# its GETs before the command module is imported.
READ_AHEAD = frozenset({"apply", "plan", "status"})


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, given the terminal's width: without one, argparse imports shutil
    for it (with bz2 and lzma, ~3 ms) whenever a parser checks an argument it is declared."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() tells it: $COLUMNS, else stdout's
    terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # None: AttributeError
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # usage errors: message + exit 64, no traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the arguments, only the named command's subparser when that
    gives the same result (see `_only_command`): declaring all of them costs ~8 ms a run."""
    parser = _Parser(
        prog="reconciler",
        description="Declarative desired state for Docker: validate, plan, apply, watch.",
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    parser.add_argument("--no-color", action="store_true", help=NO_COLOR_HELP)
    # the commands' common options, accepted before COMMAND too (commands/parsers.py)
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="output format"
    )
    parser.add_argument("-p", "--project", default=None, help="override the spec's project name")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    only = _only_command(argv)
    if only is None:
        register_all(sub)
    else:
        _declare_one(sub, only)
    for command in sub.choices.values():  # SUPPRESS: a value given before COMMAND stays
        command.add_argument(
            "--no-color", action="store_true", default=argparse.SUPPRESS, help=NO_COLOR_HELP
        )
    parser.set_defaults(root_parser=parser)  # `reconciler completion` reads the whole tree
    return parser


def _declare_one(sub: argparse._SubParsersAction, name: str) -> None:
    """What register_all does for one command."""
    dict(COMMANDS)[name](sub).set_defaults(command_module=name)


_ROOT_VALUED = ("--output", "--project")  # the root options that take a value
_ROOT_FLAGS = ("--version", "--no-color")


def _only_command(argv: Sequence[str] | None) -> str | None:
    """The command `argv` runs, when parsing it with that command's subparser alone is the
    same as with all: only known root options (not -h/--help) before a known command name,
    not `completion` (it reads the whole tree). None (declare all) when unsure."""
    if argv is None:
        return None
    names = {name for name, _ in COMMANDS} - {"completion"}
    tokens = iter(argv)
    for token in tokens:
        long_name = token.split("=", 1)[0]
        if token in ("-o", "-p"):
            next(tokens, None)  # its value
        elif token[:2] in ("-o", "-p") and len(token) > 2:
            continue  # -ojson
        elif len(long_name) > 2 and long_name.startswith("--"):
            valued = [o for o in _ROOT_VALUED if o.startswith(long_name)]
            flags = [o for o in _ROOT_FLAGS if o.startswith(long_name)]
            if len(valued) + len(flags) != 1 or (flags and "=" in token):
                return None  # unknown, ambiguous or odd: let the whole parser say so
            if valued and "=" not in token:
                next(tokens, None)
        else:
            return token if token in names else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    name = getattr(args, "command_module", None)
    if not name:
        parser.print_help()
        return EXIT_OK
    ahead = import_module("reconciler.engine.readahead") if name in READ_AHEAD else None
    if ahead is not None:  # the engine answers while the command and the spec load
        ahead.start()
    try:
        command = import_module(f"reconciler.commands.{name}")  # only the command that runs
        return int(command.run(args))
    except ReconcilerError as exc:
        report_error(exc, args)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR
    finally:
        if ahead is not None:  # not taken: the command stopped before it read the engine
            ahead.discard()
