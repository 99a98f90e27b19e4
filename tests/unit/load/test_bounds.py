"""Issue 16 #4 and #6: hostile input files are refused with a message that says which bound,
located, before anything big is read or built: the size (checked before reading), the nesting
depth (as written and through aliases), the number of nodes as written and alias expansion."""

from __future__ import annotations

import os
import resource

import pytest

from reconciler.errors import SpecError
from reconciler.load import bounds
from reconciler.load.bounds import MAX_NODES
from reconciler.load.source import load_document


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_document(path)
    return [p.render().replace(str(path), "s.yaml") for p in info.value.problems]


@pytest.mark.parametrize(
    "text",
    [
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 500)) + "  " * 500 + "x: 1\n",
        "a: " + "[" * 500 + "]" * 500 + "\n",
        "a: " + "{b: " * 500 + "1" + "}" * 500 + "\n",
    ],
    ids=["block", "flow-list", "flow-map"],
)
def test_deep_nesting_is_a_located_error_not_a_recursion_error(tmp_path, text):
    [message] = problems(tmp_path, text)
    assert message.startswith("s.yaml:") and "nesting deeper than 64 levels" in message


def test_nesting_through_aliases_is_bounded_too(tmp_path):
    lines = ["a0: &a0 " + "[" * 40 + "]" * 40]
    for i in range(1, 5):
        lines.append(f"a{i}: &a{i} " + "[" * 30 + f"*a{i - 1}" + "]" * 30)
    found = problems(tmp_path, "\n".join(lines) + "\n")
    assert any("nesting deeper than 64 levels (through aliases)" in p for p in found), found


def test_a_huge_flow_list_under_the_size_cap_is_refused_by_its_node_count(tmp_path):
    text = "a: [" + "1," * (1_900_000) + "1]\n"  # about 3.8 MB, no aliases
    assert len(text) < bounds.MAX_BYTES
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [message] = problems(tmp_path, text)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert f"more than {bounds.MAX_WRITTEN} nodes" in message and "alias bomb" not in message
    assert message.startswith("s.yaml:1:")
    assert grown_kib < 200 * 1024  # the nodes were never built (it was 634 MB)


def test_the_alias_bomb_message_names_aliases(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    [message] = problems(tmp_path, "\n".join(lines) + "\n")
    assert f"aliases expand the document to more than {MAX_NODES} values" in message


def test_a_file_over_the_cap_is_refused_before_a_byte_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    with path.open("wb") as f:
        f.truncate(bounds.MAX_BYTES + 1)  # sparse: its size, not its content, is refused
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.problems[0].message == "spec file is larger than 4 MiB"
    assert reads == []


def test_a_huge_scalar_under_the_cap_is_accepted_by_the_reader(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("a: " + "x" * (3 * 2**20) + "\n")
    assert len(load_document(path).data["a"]) == 3 * 2**20
