"""cli.build_parser(argv) declares only the command that runs (issue 14: ~8 ms of every run);
the result must be the one the whole parser gives: same help, same parse, same usage errors."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from reconciler.cli import _only_command, build_parser, main
from reconciler.commands.parsers import COMMANDS

NAMES = [name for name, _ in COMMANDS if name != "completion"]


def _sub(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


@pytest.mark.parametrize("name", NAMES)
def test_each_commands_help_is_the_same_declared_alone(name: str) -> None:
    alone = build_parser([name])
    assert _only_command([name]) == name
    assert set(_sub(alone, name).prog.split()) == {"reconciler", name}
    assert _sub(alone, name).format_help() == _sub(build_parser(), name).format_help()


ARGVS = [
    ["plan", "spec.yaml", "--detailed-exitcode"],
    ["status", "spec.yaml", "-o", "json"],
    ["-o", "json", "status", "spec.yaml"],
    ["-ojson", "--no-color", "apply", "spec.yaml"],
    ["--output=json", "-p", "x", "plan"],
    ["--proj", "status", "plan", "s.yaml"],  # -p's value is a command name
    ["--no-c", "validate", "s.yaml"],
    ["apply", "-f", "a.yml", "-f", "b.yml", "--env-file", "e", "--profile", "dev"],
    ["exec", "spec.yaml", "web", "--", "ls", "-l"],
    ["destroy", "spec.yaml"],
]


@pytest.mark.parametrize("argv", ARGVS)
def test_parsing_with_the_one_command_gives_the_same_namespace(argv: list[str]) -> None:
    alone = _comparable(vars(build_parser(argv).parse_args(argv)))
    whole = _comparable(vars(build_parser().parse_args(argv)))
    alone.pop("root_parser"), whole.pop("root_parser")
    assert alone == whole


def _comparable(values: dict[str, object]) -> dict[str, object]:
    """A parser kept in the namespace (for a command's own usage errors) by its help text."""
    return {
        key: value.format_help() if isinstance(value, argparse.ArgumentParser) else value
        for key, value in values.items()
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["-h", "plan"],
        ["--help", "plan"],
        ["--he", "plan"],
        ["-x", "plan"],
        ["--bogus", "plan"],
        ["--", "plan"],
        ["-", "plan"],
        ["-1", "plan"],
        ["nosuch", "plan"],
        ["completion", "bash"],
        ["--version=1", "plan"],
        [],
    ],
)
def test_anything_unusual_declares_every_command(argv: list[str]) -> None:
    assert _only_command(argv) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--bogus"],
        ["plan", "a.yaml", "b.yaml", "c.yaml"],
        ["status", "-o", "yaml"],
        ["-o", "yaml", "plan"],
        ["plan", "s.yaml", "--detailed-exitcode", "extra", "args", "here"],
    ],
)
def test_usage_errors_are_the_same(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as alone:
        main(argv)
    alone_err = capsys.readouterr()
    monkeypatch.setattr("reconciler.cli._only_command", lambda argv: None)
    with pytest.raises(SystemExit) as whole:
        main(argv)
    assert alone.value.code == whole.value.code
    assert alone_err == capsys.readouterr()


def test_parsing_does_not_import_shutil_and_help_keeps_the_terminal_width() -> None:
    """argparse's own formatter imports shutil (with bz2 and lzma) for the terminal width
    each time an argument is declared; cli's formatter is given the width instead."""
    probe = (
        "import sys; from reconciler.cli import build_parser; "
        "build_parser(['plan', 's.yaml']).parse_args(['plan', 's.yaml']); "
        "print('shutil' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
    for columns in ("50", "120"):
        text = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan", "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": columns},
        ).stdout
        widest = max(len(line) for line in text.splitlines())
        assert widest <= int(columns), (columns, widest)
        assert widest > int(columns) - 30, (columns, widest)  # it uses the width it has
