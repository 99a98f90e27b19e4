"""Without SPEC, `exec web -- sh` and `logs web` mean the container `web` of the folder's
spec or Compose file: the word argparse put in SPEC's place is taken back as the NAME."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from reconciler.commands import exec as exec_command
from reconciler.commands import logs as logs_command
from reconciler.commands.parsers import register_all


class Stop(Exception):
    pass


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register_all(parser.add_subparsers())
    return parser.parse_args(argv)


def caught(module, monkeypatch: pytest.MonkeyPatch, args: argparse.Namespace):
    seen: list[argparse.Namespace] = []

    def load(a: argparse.Namespace):
        seen.append(a)
        raise Stop

    monkeypatch.setattr(module, "load", load)
    with pytest.raises(Stop):
        module.run(args)
    return seen[0]


def test_exec_without_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    args = caught(exec_command, monkeypatch, parse("exec", "web", "--", "sh", "-c", "id"))
    assert (args.spec, args.name, args.command) == (None, "web", ["sh", "-c", "id"])


def test_exec_with_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("x")
    monkeypatch.chdir(tmp_path)
    args = caught(exec_command, monkeypatch, parse("exec", "s.yaml", "web", "--", "id"))
    assert (args.spec, args.name, args.command) == ("s.yaml", "web", ["id"])


def test_logs_without_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    args = caught(logs_command, monkeypatch, parse("logs", "web", "db", "-f"))
    assert (args.spec, args.names, args.follow) == (None, ["web", "db"], True)
    args = caught(logs_command, monkeypatch, parse("logs", "--file", "c.yaml", "web"))
    assert (args.files, args.spec, args.names) == (["c.yaml"], None, ["web"])
