"""Stage analysis: only the stages the target needs count (buildctx/stages.py)."""

from __future__ import annotations

import pytest

from reconciler.buildctx.stages import analyse

MULTI = """\
FROM localhost:5000/missing:1 AS unused
RUN echo never built
FROM stand-in/busybox:latest AS base
RUN echo base
FROM base AS app
COPY --from=tools:1 /x /y
FROM stand-in/busybox:2 AS other
RUN --mount=type=cache,target=/c,from=base true
"""

CASES = [
    (None, ("stand-in/busybox:latest", "stand-in/busybox:2")),  # the last stage: other
    ("app", ("stand-in/busybox:latest", "tools:1")),
    ("base", ("stand-in/busybox:latest",)),
    ("unused", ("localhost:5000/missing:1",)),
    ("APP", ("stand-in/busybox:latest", "tools:1")),  # stage names are case-insensitive
]


@pytest.mark.parametrize(("target", "bases"), CASES)
def test_only_the_stages_the_target_needs_count(target, bases):
    assert analyse(MULTI, None, target).bases == bases


def test_an_unused_stage_before_the_target_is_emptied_in_the_dockerfile_sent():
    found = analyse(MULTI, None, "app")
    lines = found.text.splitlines()
    assert lines[0] == "FROM scratch AS unused" and lines[1] == ""
    assert "FROM base AS app" in lines  # needed stages are sent as written
    assert "FROM stand-in/busybox:2 AS other" in lines  # after the target: never built


def test_syntax_directive_is_dropped_and_reported():
    text = "# syntax=docker/dockerfile:1\n# escape=`\nFROM a:1\nRUN x `\n  y\n"
    found = analyse(text)
    assert found.syntax == "docker/dockerfile:1"
    assert found.text == "# escape=`\nFROM a:1\nRUN x `\n  y\n"
    assert found.bases == ("a:1",)


def test_heredoc_is_found_in_needed_stages_only_and_its_body_is_not_parsed():
    text = "FROM a:1 AS one\nRUN <<EOF\nFROM nothing:1\nEOF\nFROM b:1\nRUN <<-'END' sh\n  x\nEND\n"
    assert analyse(text).heredoc_line == 6
    assert analyse(text).bases == ("b:1",)
    assert analyse(text, None, "one").heredoc_line == 2
    assert analyse(text, None, "one").bases == ("a:1",)


def test_unknown_target_is_reported():
    assert analyse("FROM a:1 AS x\n", None, "y").unknown_target
