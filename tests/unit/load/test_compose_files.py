"""Which files a command reads: reconciler.yaml first, then Compose's names in Compose's
order; the override file beside a Compose file found by default or given as SPEC (not with
-f); COMPOSE_FILE; the folder's name normalised as Compose does."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.load.compose.files import default_file, normalize_project_name, override_file
from reconciler.load.inputs import Inputs, choose_files, is_compose, load_inputs

IMAGE = "localhost:5000/stand-in/busybox:1"
COMPOSE = f"services:\n  app:\n    image: {IMAGE}\n"


@pytest.mark.parametrize(
    "present, found",
    [
        (["docker-compose.yml", "compose.yaml", "reconciler.yaml"], "reconciler.yaml"),
        (["docker-compose.yml", "compose.yml", "compose.yaml"], "compose.yaml"),
        (["docker-compose.yml", "docker-compose.yaml", "compose.yml"], "compose.yml"),
        (["docker-compose.yml", "docker-compose.yaml"], "docker-compose.yaml"),
        (["docker-compose.yml"], "docker-compose.yml"),
    ],
)
def test_default_file_order(tmp_path: Path, present: list[str], found: str) -> None:
    for name in present:
        (tmp_path / name).write_text(COMPOSE)
    assert default_file(tmp_path) == tmp_path / found


def test_no_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no spec given"):
        choose_files(None, [], {}, tmp_path)


def test_override_names(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    assert override_file(tmp_path / "docker-compose.yml") is None
    (tmp_path / "docker-compose.override.yml").write_text("services: {}\n")
    assert override_file(tmp_path / "docker-compose.yml") == (
        tmp_path / "docker-compose.override.yml"
    )


def test_override_only_without_f(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "compose.override.yaml").write_text("services:\n  app:\n    user: nobody\n")
    compose = str(tmp_path / "compose.yaml")
    spec, files = load_inputs(Inputs([compose], False, "p"), {})
    assert spec.containers["app"].user == "nobody"
    assert tmp_path / "compose.override.yaml" in files
    spec, _ = load_inputs(Inputs([compose], True, "p"), {})
    assert spec.containers["app"].user is None


def test_compose_file_variable(tmp_path: Path) -> None:
    files, explicit = choose_files(None, [], {"COMPOSE_FILE": "a.yaml:b.yaml"}, tmp_path)
    assert (files, explicit) == (["a.yaml", "b.yaml"], True)


@pytest.mark.parametrize(
    "folder, project",
    [("My_App.v2", "my_appv2"), ("__web-1", "web-1"), ("Shop", "shop"), ("ça va", "ava")],
)
def test_folder_names_are_normalised(folder: str, project: str) -> None:
    assert normalize_project_name(folder) == project


def test_spec_v1_files_are_not_merged(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text(f"version: 1\nproject: p\ncontainers:\n  a: {{image: {IMAGE}}}\n")
    assert not is_compose(str(a))
    with pytest.raises(SpecError, match="merged only when they are Compose files"):
        load_inputs(Inputs([str(a), str(a)], True), {})
