"""`reconciler validate` and `reconciler schema`: output, exit codes, JSON, no docker import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[3]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_summary(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, "validate", "examples/multi.yaml")
    assert code == 0
    assert out == "examples/multi.yaml: valid (project multi: 1 image, 2 containers, 1 volume)\n"
    assert err == ""


def test_project_override(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "validate", "-p", "other", "examples/quickstart.yaml")
    assert code == 0
    assert "project other:" in out
    code, _, err = run(capsys, "validate", "--project", "Bad Name", "examples/quickstart.yaml")
    assert code == 1
    assert "project: invalid project name 'Bad Name' (from --project)" in err


def test_invalid_prints_problems_on_stderr(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text("version: 1\nproject: p\ncontainers:\n  web: {imag: x}\n")
    code, out, err = run(capsys, "validate", "s.yaml")
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        's.yaml:4:3: containers.web: missing required key "image"',
        's.yaml:4:9: containers.web.imag: unknown key (did you mean "image"?)',
        "s.yaml: 2 problems",
    ]


def test_json_output(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(
        "version: 1\nproject: p\ncontainers:\n  web: {image: 'x:1', state: up}\n"
    )
    code, out, err = run(capsys, "validate", "-o", "json", "s.yaml")
    assert code == 1 and err == ""
    assert json.loads(out) == {
        "valid": False,
        "problems": [
            {
                "file": "s.yaml",
                "line": 4,
                "column": 30,
                "path": "containers.web.state",
                "message": "must be one of running, stopped, absent, not 'up'",
                "hint": None,
            }
        ],
    }
    Path("s.yaml").write_text("version: 1\nproject: p\n")
    code, out, _ = run(capsys, "validate", "--output", "json", "s.yaml")
    assert code == 0
    assert json.loads(out) == {
        "valid": True,
        "problems": [],
        "warnings": [],
        "project": "p",
        "images": 0,
        "containers": 0,
    }


def test_bare_name_not_a_key_warns(capsys, tmp_path, monkeypatch):
    """Issue 15 (1, 2): `ubuntu` next to the key `ubuntu-nginx` is a valid image, not a typo;
    a bare name that is not a key is valid but warned about with its full reference."""
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(
        "version: 1\nproject: p\nimages:\n"
        "  ubuntu-nginx: {commit: {from: ubuntu, run: [nginx]}}\n"
        "containers:\n  web: {image: ubuntu-nginx}\n  old: {image: made}\n"
    )
    code, out, err = run(capsys, "validate", "s.yaml")
    assert code == 0
    assert out == "s.yaml: valid (project p: 1 image, 2 containers)\n"
    assert err.splitlines() == [
        "warning: s.yaml:4:33: images.ubuntu-nginx.commit.from: 'ubuntu' is not an images key: "
        "it will be pulled from the default registry as docker.io/library/ubuntu:latest "
        "(declare images.ubuntu, or write ubuntu:latest if you mean that image)",
        "warning: s.yaml:7:16: containers.old.image: 'made' is not an images key: it will be "
        "pulled from the default registry as docker.io/library/made:latest "
        "(declare images.made, or write made:latest if you mean that image)",
    ]
    code, out, _ = run(capsys, "validate", "-o", "json", "s.yaml")
    assert code == 0
    assert [w["path"] for w in json.loads(out)["warnings"]] == [
        "images.ubuntu-nginx.commit.from",
        "containers.old.image",
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "s.yaml:1:1: spec file not found"),
        ("dir", "s.yaml:1:1: spec file is a directory, not a file"),
        (b"\xff\xfe\x00", "s.yaml:1:1: spec file is not valid UTF-8 (byte 0xff)"),
        (b"", "s.yaml:1:1: spec file is empty (start with `version: 1` and `project:`)"),
        (b"a: [1,\n", "s.yaml:2:1: YAML syntax error: did not find expected node content"),
        (b"just text\n", "s.yaml:1:1: the spec must be a mapping"),
    ],
)
def test_never_a_traceback(capsys, tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    if content == "dir":
        Path("s.yaml").mkdir()
    elif content is not None:
        Path("s.yaml").write_bytes(content)
    code, out, err = run(capsys, "validate", "s.yaml")
    assert code == 1
    assert err.startswith(message), err
    assert "Traceback" not in err
    code, out, _ = run(capsys, "validate", "-o", "json", "s.yaml")
    assert code == 1 and json.loads(out)["valid"] is False


def test_schema_command_prints_the_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out) == json.loads((ROOT / "schemas" / "spec.schema.json").read_text())


def test_validate_does_not_import_docker():
    code = (
        "import sys\n"
        "from reconciler.cli import main\n"
        "rc = main(['validate', 'examples/multi.yaml'])\n"
        "assert rc == 0, rc\n"
        "bad = [m for m in sys.modules if m == 'docker' or m.startswith('docker.')]\n"
        "assert not bad, bad\n"
        "assert 'reconciler.engine.client' not in sys.modules\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema is only for explaining problems'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
