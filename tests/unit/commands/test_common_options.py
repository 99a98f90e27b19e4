"""Issue 15 (8): the common options (--no-color, -o/--output, -p/--project) are accepted both
before and after the command name, and the one after the command wins."""

from __future__ import annotations

import pytest

from reconciler.cli import build_parser


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ("--no-color", "plan", "w.yaml"),
        ("plan", "w.yaml", "--no-color"),
        ("plan", "--no-color", "w.yaml"),
        ("status", "w.yaml", "--no-color"),
        ("validate", "w.yaml", "--no-color"),
        ("logs", "w.yaml", "--no-color"),
    ],
)
def test_no_color_before_or_after(argv):
    assert parse(*argv).no_color is True


def test_defaults_when_absent():
    args = parse("plan", "w.yaml")
    assert (args.no_color, args.output, args.project) == (False, "text", None)


@pytest.mark.parametrize(
    "argv",
    [
        ("-o", "json", "-p", "x", "plan", "w.yaml"),
        ("plan", "w.yaml", "-o", "json", "-p", "x"),
        ("--output", "json", "status", "--project", "x", "w.yaml"),
    ],
)
def test_output_and_project_before_or_after(argv):
    args = parse(*argv)
    assert (args.output, args.project) == ("json", "x")


def test_after_the_command_wins():
    assert parse("-o", "json", "plan", "w.yaml", "-o", "text").output == "text"
