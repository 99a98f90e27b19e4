"""The everyday commands' argument handling, without an engine: completion scripts generated
from the parser, `exec` without a command, SPEC-or-`-p` for the label-only commands, and the
subset arguments."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from reconciler.cli import EXIT_USAGE, build_parser
from reconciler.commands.exec import DEFAULT_SHELL, split_command
from reconciler.errors import EngineError
from reconciler.plan.planner import DestroyOptions
from reconciler.reconcile import destroy_project
from tests.clirun import cli
from tests.unit.fake_engine import FakeEngine


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_lists_every_command_and_their_options(shell):
    code, out, _ = cli("completion", shell)
    assert code == 0
    for word in ("apply", "destroy", "ps", "images", "restart", "pull", "build", "diff"):
        assert word in out
    assert "no-cache" in out and "volumes" in out  # fish writes `-l no-cache`


def test_bash_completion_is_valid_bash(tmp_path):
    _, out, _ = cli("completion", "bash")
    script = tmp_path / "reconciler.bash"
    script.write_text(out)
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_completion_of_an_unknown_shell_is_a_usage_error():
    code, _, err = cli("completion", "powershell")
    assert code == EXIT_USAGE and "invalid choice" in err


def test_shtab_is_not_imported_by_help():
    code = (
        "import sys; from reconciler.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'shtab' not in sys.modules and 'prometheus_client' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_exec_without_a_command_opens_a_shell():
    args = build_parser().parse_args(["exec", "spec.yaml", "web"])
    assert split_command(args).command == list(DEFAULT_SHELL) == ["sh"]
    args = build_parser().parse_args(["exec", "spec.yaml", "web", "-u", "0", "--"])
    parsed = split_command(args)
    assert parsed.command == ["sh"] and parsed.user == "0"
    args = build_parser().parse_args(["exec", "spec.yaml", "web", "--", "ls", "-l"])
    assert split_command(args).command == ["ls", "-l"]


@pytest.mark.parametrize("command", ["status", "ps", "images", "destroy"])
def test_label_only_commands_need_spec_or_project(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no default spec file here
    code, _, err = cli(command)
    assert code == EXIT_USAGE
    assert "-p NAME" in err


def test_an_invalid_project_name_is_an_error_not_a_lookup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("ps", "-p", "Not Valid")
    assert code == 1 and "invalid project name" in err


def test_a_broken_spec_names_the_way_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text("version: 1\nproject: [\n")
    code, _, err = cli("destroy", str(spec), "-p", "mine")
    assert code == 1
    assert "reconciler destroy -p mine" in err


def test_subset_arguments():
    parser = build_parser()
    assert parser.parse_args(["apply", "s.yaml", "web", "db"]).names == ["web", "db"]
    assert parser.parse_args(["restart", "s.yaml"]).names == []
    build = parser.parse_args(["build", "s.yaml", "web", "--no-cache"])
    assert build.no_cache and build.names == ["web"]
    destroy = parser.parse_args(["destroy", "-p", "x", "--volumes", "--yes"])
    assert destroy.spec is None and destroy.yes and destroy.volumes
    assert isinstance(parser.parse_args(["pull", "s.yaml"]), argparse.Namespace)


def test_destroy_by_name_reads_the_services_with_target_swarm(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))  # the local lock's folder
    engine = FakeEngine()  # a plain engine: reading services fails, so the flag reached it
    with pytest.raises(EngineError, match="Swarm"):
        destroy_project("p", engine, DestroyOptions(), swarm=True)
    assert destroy_project("p", engine, DestroyOptions()).plan.changes == ()
