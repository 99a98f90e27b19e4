"""load/doccache.py: a document read from the cache is the very document a parse gives (every
example and fixture file, values and marks), is used only for the same bytes and the same
parser, never for a document with problems or values JSON cannot hold, survives a broken
entry, is kept to MAX_ENTRIES, is off with RECONCILER_NO_CACHE, and spares PyYAML's import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.load import doccache
from reconciler.load.loader import load_spec
from reconciler.load.source import load_document

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(
    [*ROOT.glob("examples/*.yaml"), *ROOT.glob("tests/fixtures/**/*.yaml")],
    key=lambda p: str(p),
)
GOOD = "version: 1\nproject: demo\ncontainers:\n  web:\n    image: busybox\n    ports: [8080:80]\n"


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "reconciler" / "documents").glob("*.json"))


@pytest.fixture
def cache() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"])  # tests/conftest.py: an empty one per test


def every_mark(doc) -> dict:
    return {path: doc.mark_at(path) for path in doc.nodes}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_cached_document_is_the_parsed_one(path: Path, cache: Path):
    try:
        parsed = load_document(path)  # a miss: parsed, then stored
    except SpecError:
        pytest.skip("a fixture that does not parse (an error case): never cached")
    if not entries(cache):
        assert parsed.problems or "timestamp" in json.dumps(parsed.data, default=str)
        return
    cached = load_document(path)
    assert doccache.get(path.read_text(encoding="utf-8-sig")) is not None
    assert cached.data == parsed.data
    assert cached.nodes == parsed.nodes
    assert every_mark(cached) == every_mark(parsed)
    assert (cached.path, cached.display, cached.problems) == (parsed.path, parsed.display, [])


def test_the_same_bytes_elsewhere_locate_errors_in_their_own_file(tmp_path: Path, cache: Path):
    bad = "version: 1\nproject: demo\ncontainers:\n  web:\n    image: busybox\n    ports: [99999]\n"
    first, second = tmp_path / "a.yaml", tmp_path / "b" / "c.yaml"
    second.parent.mkdir()
    for path in (first, second):
        path.write_text(bad)
    messages = []
    for path in (first, second):
        with pytest.raises(SpecError) as exc:
            load_spec(str(path), {})
        messages.append(exc.value.problems[0].render())
    assert len(entries(cache)) == 1  # parsed once, the second came from the cache
    assert messages[0].startswith(f"{first}:6:")
    assert messages[1] == messages[0].replace(str(first), str(second))


def test_changed_bytes_or_another_parser_are_a_miss(tmp_path: Path, cache: Path, monkeypatch):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    load_document(spec)
    spec.write_text(GOOD.replace("8080", "8081"))
    assert load_document(spec).data["containers"]["web"]["ports"] == ["8081:80"]
    assert len(entries(cache)) == 2
    monkeypatch.setattr(doccache, "_fingerprint", "another parser")
    assert doccache.get(GOOD) is None


def test_a_broken_entry_is_a_miss_and_is_replaced(tmp_path: Path, cache: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    expected = load_document(spec).data
    [entry] = entries(cache)
    for junk in ("{not json", json.dumps({"format": 1, "data": {}}), json.dumps([1, 2])):
        entry.write_text(junk)
        assert load_document(spec).data == expected
        assert doccache.get(GOOD) is not None  # stored again by that parse


def test_documents_with_problems_or_timestamps_are_not_cached(tmp_path: Path, cache: Path):
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text(GOOD + "project: again\n")
    assert load_document(duplicate).problems  # a duplicate key: reported on every load
    assert load_document(duplicate).problems
    stamped = tmp_path / "stamp.yaml"
    stamped.write_text(GOOD + "x-when: 2026-11-30\n")
    assert str(load_document(stamped).data["x-when"]) == "2026-11-30"
    assert entries(cache) == []


def test_no_cache_with_reconciler_no_cache(tmp_path: Path, cache: Path, monkeypatch):
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    load_document(spec)
    load_document(spec)
    assert not (cache / "reconciler" / "documents").exists()


def test_at_most_max_entries_are_kept(tmp_path: Path, cache: Path, monkeypatch):
    monkeypatch.setattr(doccache, "MAX_ENTRIES", 3)
    spec = tmp_path / "spec.yaml"
    for port in range(8000, 8006):
        spec.write_text(GOOD.replace("8080", str(port)))
        load_document(spec)
    assert len(entries(cache)) == 3
    assert doccache.get(GOOD.replace("8080", "8005")) is not None  # the newest stay
    assert doccache.get(GOOD.replace("8080", "8000")) is None


def test_an_unwritable_cache_fails_nothing(tmp_path: Path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file, not a folder
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    assert load_document(spec).data["project"] == "demo"


PROBE = """
import sys
from reconciler.load.loader import load_spec
spec = load_spec(sys.argv[1], {})
print(len(spec.containers), "yaml" in sys.modules)
"""


def test_a_cached_spec_loads_without_importing_pyyaml(tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    runs = [
        subprocess.run(
            [sys.executable, "-c", PROBE, str(spec)], capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs == [["1", "True"], ["1", "False"]]
