"""Shared test fixtures: the repo root and the examples folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return ROOT / "examples"


@pytest.fixture(autouse=True)
def private_user_cache(tmp_path_factory, monkeypatch) -> None:
    """Tests never read or write the user's cache folder ($XDG_CACHE_HOME/reconciler):
    every test gets an empty one of its own (subprocesses inherit it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
