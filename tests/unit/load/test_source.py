"""source.py: safe YAML with marks, duplicate keys, bounds on size and alias expansion."""

from __future__ import annotations

import time

import pytest

from reconciler.errors import Location, SpecError
from reconciler.load import bounds
from reconciler.load.source import load_document, render_path


def doc_of(tmp_path, text: str | bytes):
    path = tmp_path / "s.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return load_document(path)


def problems(tmp_path, text: str | bytes) -> list[str]:
    with pytest.raises(SpecError) as info:
        doc_of(tmp_path, text)
    return [p.render().replace(str(tmp_path) + "/", "") for p in info.value.problems]


def test_marks_for_keys_and_values(tmp_path):
    doc = doc_of(tmp_path, "a:\n  b: [1, 'x']\n  c: {d: yes}\n")
    assert doc.data == {"a": {"b": [1, "x"], "c": {"d": True}}}
    mark = doc.mark_at(("a", "b", 1))
    assert (mark.value.line, mark.value.column, mark.raw, mark.style) == (2, 10, "x", "'")
    mark = doc.mark_at(("a", "c"))
    assert mark.key == Location(str(tmp_path / "s.yaml"), 3, 3)
    assert mark.value == Location(str(tmp_path / "s.yaml"), 3, 6)
    assert doc.mark_at(("a", "c", "d")).raw == "yes"
    # a path without its own mark falls back to the nearest ancestor
    assert doc.location(("a", "c", "d", "missing")) == doc.location(("a", "c", "d"))


def test_keys_are_taken_as_written(tmp_path):
    doc = doc_of(tmp_path, "on: 1\nno: 2\n8080: 3\nnull: 4\n")
    assert list(doc.data) == ["on", "no", "8080", "null"]


def test_duplicate_keys(tmp_path):
    """A duplicate key does not stop reading (the first is kept): the loader reports it with
    every other problem in the file."""
    doc = doc_of(tmp_path, "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert doc.data == {"a": 1, "b": {"c": 1}}
    assert [p.render().replace(str(tmp_path) + "/", "") for p in doc.problems] == [
        "s.yaml:4:3: b.c: duplicate key 'c' (first at line 3)",
        "s.yaml:5:1: a: duplicate key 'a' (first at line 1)",
    ]


def test_merge_keys(tmp_path):
    doc = doc_of(
        tmp_path,
        "base: &b {x: 1, y: 2}\nmore: &m {z: 3}\nuse:\n  <<: [*b, *m]\n  y: 20\n",
    )
    assert doc.data["use"] == {"y": 20, "x": 1, "z": 3}


def test_unsafe_tags_refused(tmp_path):
    assert problems(tmp_path, "a: !!python/name:os.system x\n") == [
        "s.yaml:1:4: a: unsupported YAML tag !!python/name:os.system"
    ]
    assert problems(tmp_path, "a: !!binary aGk=\nb: !!set {x}\nc: !custom 1\n") == [
        "s.yaml:1:4: a: unsupported YAML tag !!binary",
        "s.yaml:2:4: b: unsupported YAML tag !!set",
        "s.yaml:3:4: c: unsupported YAML tag !custom",
    ]


def test_recursive_alias(tmp_path):
    assert problems(tmp_path, "a: &x\n  b: *x\n") == ["s.yaml:1:4: a.b: recursive YAML alias"]


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 10**9 values when expanded
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    start = time.monotonic()
    found = problems(tmp_path, "\n".join(lines) + "\n")
    elapsed = time.monotonic() - start
    assert found == [
        "s.yaml:1:1: aliases expand the document to more than 100000 values (an alias bomb); "
        "refusing to expand it"
    ]
    assert elapsed < 30  # generous: the point is that it ends (about 0.3 s)


def test_file_errors(tmp_path):
    with pytest.raises(SpecError) as info:
        load_document(tmp_path / "missing.yaml")
    assert info.value.problems[0].message == "spec file not found"
    with pytest.raises(SpecError) as info:
        load_document(tmp_path)
    assert info.value.problems[0].message == "spec file is a directory, not a file"


def test_not_utf8_is_located(tmp_path):
    assert problems(tmp_path, b"a: 1\nb: caf\xe9\n") == [
        "s.yaml:2:7: spec file is not valid UTF-8 (byte 0xe9)"
    ]


def test_utf8_bom_is_fine(tmp_path):
    assert doc_of(tmp_path, "\ufeffa: 1\n".encode()).data == {"a": 1}


def test_size_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(bounds, "MAX_BYTES", 100)  # the bound lives in load/bounds.py
    assert problems(tmp_path, "a: " + "x" * 200 + "\n") == [
        "s.yaml:1:1: spec file is larger than 100 bytes"
    ]


def test_empty_and_non_mapping(tmp_path):
    assert problems(tmp_path, "") == [
        "s.yaml:1:1: spec file is empty (start with `version: 1` and `project:`)"
    ]
    assert problems(tmp_path, "# just a comment\n---\n") == [
        "s.yaml:1:1: spec file is empty (start with `version: 1` and `project:`)"
    ]
    assert problems(tmp_path, "\n\n- a\n") == [
        "s.yaml:3:1: the spec must be a mapping (version, project, images, ...), not a list"
    ]


@pytest.mark.parametrize(
    "path, rendered",
    [
        ((), ""),
        (("containers", "web", "ports", 0), "containers.web.ports[0]"),
        (("containers", "web", "labels", "io.x"), 'containers.web.labels["io.x"]'),
        (("a b",), '["a b"]'),
        (("x", 'q"'), 'x["q\\""]'),
    ],
)
def test_render_path(path, rendered):
    assert render_path(path) == rendered
