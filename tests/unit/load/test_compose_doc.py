"""docs/compose.md is generated from the one table the code refuses keys with
(reconciler/load/compose/keys.py): the committed doc must be the generated one, and every
refused key of the table is refused by the loader with its reason."""

from __future__ import annotations

from pathlib import Path

import yaml

from reconciler.errors import SpecError
from reconciler.load.compose.checks import _shown
from reconciler.load.compose.doc import render_markdown
from reconciler.load.compose.keys import HONOURED, REFUSED, RULES, TABLE
from reconciler.load.inputs import Inputs, load_inputs

ROOT = Path(__file__).resolve().parents[3]


def test_committed_doc_is_generated() -> None:
    committed = (ROOT / "docs" / "compose.md").read_text()
    assert committed == render_markdown(), "run scripts/gen-compose-doc.py"


def test_every_rule_is_honoured_or_refused_with_a_reason() -> None:
    assert len(TABLE) == len(RULES), "a key is in the table twice"
    for rule in RULES:
        assert rule.verdict in (HONOURED, REFUSED)
        assert rule.how.strip(), rule.key


def test_the_doc_names_every_key() -> None:
    doc = render_markdown()
    for rule in RULES:
        assert f"`{rule.key}`" in doc


def _document(key: str) -> dict:
    """A Compose document that writes `key` (a table pattern) once, on a valid service."""
    doc: dict = {"services": {"app": {"image": "localhost:5000/stand-in/busybox:1"}}}
    node = doc
    parts = key.replace("[]", ".[]").split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        name = "app" if part == "*" else part
        if part == "[]":
            continue
        if i + 1 < len(parts) and parts[i + 1] == "[]":
            item: dict = {}
            node.setdefault(name, [item])
            node = item
            continue
        if last:
            node[name] = "x"
        else:
            node = node.setdefault(name, {})
    return doc


def test_every_refused_key_is_refused_with_its_reason(tmp_path) -> None:
    for rule in RULES:
        if rule.verdict != REFUSED or rule.key.startswith("include"):
            continue
        path = tmp_path / "compose.yaml"
        path.write_text(yaml.safe_dump(_document(rule.key)))
        try:
            load_inputs(Inputs([str(path)], True, "p"), {})
        except SpecError as exc:
            messages = [p.message for p in exc.problems]
        else:
            messages = []
        assert f"{_shown(rule.key)}: {rule.how}" in messages, (rule.key, messages)
