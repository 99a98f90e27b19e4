"""The text plan: symbols, colours and when colour is used."""

from __future__ import annotations

from reconciler.plan.planner import plan
from tests.unit.plan.test_planner import (
    Obs,
    ctr,
    make_spec,
    make_state,
)


def test_text_plan_symbols_and_colours():
    from reconciler.ui.render import render_plan

    spec = make_spec(
        ctr("new"),
        ctr("changed", env={"A": "2"}),
        ctr("exited"),
        ctr("halt", state="stopped"),
    )
    state = make_state(
        Obs(ctr("changed", env={"A": "1"})),
        Obs(ctr("exited"), status="exited", exit_code=1),
        Obs(ctr("halt", state="stopped")),
        Obs(ctr("gone")),
    )
    result = plan(spec, state)
    text = render_plan(result, color=False)
    for line in (
        "+ container.new[1] (p-new-1): create",
        "~ container.changed[1] (p-changed-1): replace: changed: env",
        '      env.A: "1" -> "2"',
        "> container.exited[1] (p-exited-1): start",
        ". container.halt[1] (p-halt-1): stop",
        "- container.gone[1] (p-gone-1): remove: no longer in the spec",
    ):
        assert line in text
    assert "\x1b[" not in text
    coloured = render_plan(result, color=True)
    assert "\x1b[32m+ container.new[1]\x1b[0m" in coloured
    assert "\x1b[33m~ container.changed[1]\x1b[0m" in coloured
    assert "\x1b[31m- container.gone[1]\x1b[0m" in coloured


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    import argparse
    import io

    from reconciler.ui.output import use_color

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(argparse.Namespace(no_color=False), Tty())
    assert not use_color(argparse.Namespace(no_color=False), io.StringIO())
    assert not use_color(argparse.Namespace(no_color=True), Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(argparse.Namespace(no_color=False), Tty())
