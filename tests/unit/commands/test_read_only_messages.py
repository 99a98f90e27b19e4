"""Issue 15 (messages): read-only commands never end with "nothing was changed" (they change
nothing anyway); commands that change things still say it."""

from __future__ import annotations

import pytest

from reconciler.cli import main

BAD = "version: 1\nproject: p\ncontainers:\n  web: {image: 'x:1', state: up}\n"


@pytest.mark.parametrize("command", ["plan", "status", "validate"])
def test_read_only_commands_do_not_say_nothing_was_changed(command, tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BAD)
    assert main([command, str(tmp_path / "s.yaml")]) == 1
    err = capsys.readouterr().err
    assert "must be one of running, stopped, absent" in err
    assert "nothing was changed" not in err
    assert err.rstrip().endswith("1 problem") or err.rstrip().endswith("1 problem found.")


def test_apply_still_says_nothing_was_changed(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BAD)
    assert main(["apply", str(tmp_path / "s.yaml")]) == 1
    assert capsys.readouterr().err.rstrip().endswith("1 problem found; nothing was changed.")
