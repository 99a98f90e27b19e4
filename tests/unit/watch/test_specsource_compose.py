"""watch on Compose input: every file the load read (the override picked up by default, a file
an `extends` names, an included file) is an input: watched, hashed, and a change in any of
them is a new spec."""

from __future__ import annotations

from pathlib import Path

from reconciler.load.inputs import Inputs
from reconciler.watch.specsource import SpecSource

IMAGE = "localhost:5000/stand-in/busybox:1"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_compose_file_read_is_an_input(tmp_path: Path) -> None:
    compose = _write(
        tmp_path / "compose.yaml",
        "include: [sub/inc.yaml]\nservices:\n  web:\n    extends: {file: base.yaml, service: b}\n",
    )
    override = _write(tmp_path / "compose.override.yaml", "services:\n  web:\n    user: nobody\n")
    base = _write(tmp_path / "base.yaml", f"services:\n  b:\n    image: {IMAGE}\n")
    inc = _write(tmp_path / "sub/inc.yaml", f"services:\n  other:\n    image: {IMAGE}\n")
    source = SpecSource(Inputs([str(compose)], False, "proj"), {})
    spec = source.load_initial()
    assert spec.containers["web"].user == "nobody"
    assert {override, base, inc} <= set(source.inputs())

    _write(base, f"services:\n  b:\n    image: {IMAGE}\n    command: [sleep, '9']\n")
    outcome, error = source.refresh()
    assert (outcome, error) == ("changed", None)
    assert source.spec is not None and source.spec.containers["web"].command == ("sleep", "9")

    _write(inc, f"services:\n  other:\n    image: {IMAGE}\n    user: root\n")
    assert source.refresh() == ("changed", None)


def test_a_spec_v1_path_still_works(tmp_path: Path) -> None:
    spec = _write(
        tmp_path / "spec.yaml",
        f"version: 1\nproject: p\ncontainers:\n  a: {{image: {IMAGE}}}\n",
    )
    source = SpecSource(spec, {})
    assert source.load_initial().project == "p"
    assert source.inputs()[0] == spec
