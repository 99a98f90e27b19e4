"""Issue 16 #7: bad arguments are usage errors (exit 64), never 2 (the documented "changes
present" code of plan --detailed-exitcode), and never silently taken."""

from __future__ import annotations

import pytest

from reconciler.cli import main

SPEC = "version: 1\nproject: p\ncontainers:\n  web:\n    image: busybox:1\n"


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return str(path)


def code_of(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(
    "argv",
    [
        ("exec", "{spec}", "web", "--replica", "abc", "--", "true"),
        ("exec", "{spec}", "--replica", "abc", "web", "--", "true"),
        ("exec", "{spec}", "web", "-e", "--", "true"),
        ("exec", "{spec}", "web", "--replica", "0", "--", "true"),
        ("exec", "{spec}", "--replica", "0", "web", "--", "true"),
        ("logs", "{spec}", "-n", "-1"),
        ("diff", "{spec}", "web", "--replica", "0"),
    ],
    ids=[
        "replica-abc",
        "replica-abc-first",
        "env-without-value",
        "replica-0",
        "replica-0-first",
        "logs-negative",
        "diff-replica-0",
    ],
)
def test_bad_arguments_exit_64(spec, argv, capsys):
    assert code_of(*(a.format(spec=spec) for a in argv)) == 64
    assert "error:" in capsys.readouterr().err
