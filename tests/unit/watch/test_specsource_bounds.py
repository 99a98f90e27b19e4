"""Issue 16 #4 and #6 for watch: no input file ends the loop (an unexpected error while loading
is reported and the last good spec stays in force), and a file over the size cap is never
read, not even by the env-file discovery."""

from __future__ import annotations

import pytest

from reconciler.load import bounds, loader
from reconciler.watch import specsource
from reconciler.watch.specsource import SpecSource

GOOD = "version: 1\nproject: p\ncontainers:\n  web:\n    image: busybox:1\n"


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD)
    src = SpecSource(path, environ={})
    src.load_initial()
    return src


def test_an_unexpected_error_while_loading_keeps_the_last_good_spec(source, monkeypatch):
    def boom(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(loader, "load_document", boom)
    source.path.write_text(GOOD + "    command: [sleep, '1']\n")
    outcome, error = source.refresh()
    assert outcome == "invalid" and error is not None
    assert "RecursionError" in error.problems[0].message
    assert source.spec is not None and source.spec.project == "p"


def test_deep_nesting_is_an_invalid_spec_for_watch(source):
    source.path.write_text(GOOD + "x-deep: " + "[" * 500 + "]" * 500 + "\n")
    outcome, error = source.refresh()
    assert outcome == "invalid"
    assert "nesting deeper than" in error.problems[0].message


def test_a_file_over_the_cap_is_not_read_by_the_discovery(source, monkeypatch):
    with source.path.open("wb") as f:
        f.truncate(bounds.MAX_BYTES + 10)
    parsed: list[int] = []
    monkeypatch.setattr(specsource, "document", lambda *a: parsed.append(1))
    outcome, error = source.refresh()
    assert outcome == "invalid" and "larger than 4 MiB" in error.problems[0].message
    assert parsed == []
    assert source.refresh() == ("same", None)  # unchanged: hashed by its stat, not re-read
