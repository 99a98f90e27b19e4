"""Table-driven: each Compose fixture (tests/fixtures/compose/<case>/) gives the normalised
Spec of its expected.yaml (a hand-written spec v1 file), or exactly the located problems of
its errors.txt. args.json may give files, spec, environ, profiles, env_files, project and
the expected warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from msgspec import Struct

from reconciler.errors import SpecError
from reconciler.load.inputs import Inputs, choose_files, load_inputs
from reconciler.load.loader import load_spec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "compose"
CASES = sorted(d.name for d in FIXTURES.iterdir() if d.is_dir())


def case_args(name: str) -> dict[str, Any]:
    path = FIXTURES / name / "args.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def case_inputs(name: str, args: dict[str, Any]) -> tuple[Inputs, dict[str, str]]:
    environ = dict(args.get("environ", {}))
    files, explicit = choose_files(args.get("spec"), args.get("files", []), environ, Path("."))
    files = [str(Path(f)) for f in files]
    inputs = Inputs(
        files,
        explicit,
        args.get("project"),
        list(args.get("env_files", [])),
        list(args.get("profiles", [])),
    )
    return inputs, environ


def plain(value: Any) -> Any:
    """A Spec as plain data without locations (where a value was written differs)."""
    if isinstance(value, Struct):
        return {
            name: plain(getattr(value, name))
            for name in value.__struct_fields__
            if name not in ("location", "path", "warnings")
        }
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def test_at_least_25_fixtures():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", CASES)
def test_compose_fixture(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / name)
    args = case_args(name)
    inputs, environ = case_inputs(name, args)
    errors = FIXTURES / name / "errors.txt"
    if errors.is_file():
        with pytest.raises(SpecError) as caught:
            load_inputs(inputs, environ)
        rendered = [p.render() for p in caught.value.problems]
        assert rendered == errors.read_text().splitlines()
        return
    spec, _ = load_inputs(inputs, environ)
    expected = load_spec("expected.yaml", environ)
    assert plain(spec) == plain(expected)
    if "warnings" in args:
        assert [w.render() for w in spec.warnings] == args["warnings"]
