"""`reconciler convert`: on every valid Compose fixture, the spec v1 it writes loads to the
same Spec and gives the same plan (against an empty engine) as the Compose files themselves,
written beside them or elsewhere; rewritten values carry a comment."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from reconciler.commands import convert
from reconciler.load.compose.convert import render_v1
from reconciler.load.compose.loader import ComposeOptions, compose_to_v1
from reconciler.load.inputs import load_inputs
from reconciler.load.loader import load_spec
from reconciler.model.state import State
from reconciler.plan.planner import plan
from tests.unit.load.test_compose_table import CASES, FIXTURES, case_args, case_inputs, plain

VALID = [name for name in CASES if not (FIXTURES / name / "errors.txt").is_file()]


def _unlocated(value):
    if isinstance(value, dict):
        return {k: _unlocated(v) for k, v in value.items() if k not in ("file", "line", "column")}
    if isinstance(value, list):
        return [_unlocated(v) for v in value]
    return value


def _plan_json(spec) -> dict:
    """The plan against an empty engine; a precondition error's location names each file."""
    return _unlocated(plan(spec, State(spec.project)).to_json())


@pytest.mark.parametrize("name", VALID)
@pytest.mark.parametrize("beside", [True, False], ids=["beside", "elsewhere"])
def test_convert_gives_the_same_plan(
    name: str, beside: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES / name)
    args = case_args(name)
    inputs, environ = case_inputs(name, args)
    spec, _ = load_inputs(inputs, environ)
    out_dir = (FIXTURES / name) if beside else tmp_path
    options = ComposeOptions(
        project=inputs.project,
        env_files=inputs.env_files,
        profiles=inputs.profiles,
        default_override=not inputs.explicit,
    )
    converted = compose_to_v1(inputs.files, environ, options, out_dir.absolute())
    text = render_v1(converted.v1.data, converted.v1.notes, inputs.files)
    target = tmp_path / "converted.yaml"
    if beside:
        target = FIXTURES / name / ".converted.yaml"
    target.write_text(text)
    try:
        again = load_spec(target, environ)
    finally:
        if beside:
            target.unlink()
    assert plain(again) == plain(spec)
    assert _plan_json(again) == _plan_json(spec)


def test_comments_where_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "depends-map")
    converted = compose_to_v1(["compose.yaml"], {}, ComposeOptions())
    text = render_v1(converted.v1.data, converted.v1.notes, ["compose.yaml"])
    assert "db: healthy  # condition: service_healthy" in text
    assert "migrate: completed  # condition: service_completed_successfully" in text


def test_dollar_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "interpolation-dotenv")
    converted = compose_to_v1(["compose.yaml"], {}, ComposeOptions())
    text = render_v1(converted.v1.data, converted.v1.notes, ["compose.yaml"])
    assert "hello $${NAME}" in text


def test_convert_command_writes_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "basic-image")
    out = tmp_path / "spec.yaml"
    args = argparse.Namespace(
        spec=None, files=[], env_files=[], profiles=[], project=None, out=str(out)
    )
    assert convert.run(args) == 0
    spec = load_spec(out, {})
    assert spec.project == "basic-image"
    assert os.path.isfile(out)
