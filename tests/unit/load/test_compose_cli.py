"""The CLI on Compose input, without an engine: validate finds compose.yaml (and its override)
in the current folder, takes -f files in order, --profile and --env-file, prints warnings and
located errors; convert writes spec v1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import cli as run
from tests.unit.load.test_compose_table import FIXTURES


def test_validate_finds_the_compose_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "override-default")
    code, out, _ = run("validate")
    assert code == 0
    assert out == "compose.yaml: valid (project override-default: 2 images, 2 containers)\n"


def test_validate_merges_f_files_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "multi-file-merge")
    code, out, _ = run("validate", "-f", "base.yaml", "-f", "prod.yaml", "-o", "json")
    assert code == 0, out
    assert '"containers": 1' in out


def test_validate_profiles_and_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "profiles")
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    code, out, _ = run("validate", "--profile", "debug", "--profile", "admin")
    assert (code, out.split("(")[1]) == (0, "project profiles: 1 image, 3 containers)\n")
    monkeypatch.chdir(FIXTURES / "env-file-option")
    monkeypatch.delenv("WHO", raising=False)
    code, out, err = run("validate", "--env-file", "prod.env")
    assert code == 0, err


def test_validate_prints_warnings_and_located_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "version-and-name")
    code, _, err = run("validate")
    assert code == 0
    assert "warning: compose.yaml:1:1: version: version is obsolete" in err
    monkeypatch.chdir(FIXTURES / "err-develop")
    code, _, err = run("validate")
    assert code == 1
    assert err.startswith("compose.yaml:4:5: services.app.develop: develop: use reconciler watch")


def test_convert_to_stdout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(FIXTURES / "depends-map")
    code, out, _ = run("convert")
    assert code == 0
    assert "db: healthy  # condition: service_healthy" in out
    target = tmp_path / "spec.yaml"
    target.write_text(out)
    code, out, err = run("validate", str(target))
    assert code == 0, err
