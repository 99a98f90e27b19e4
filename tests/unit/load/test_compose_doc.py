"""docs/compose.md is generated from the one table the code refuses keys with
(reconciler/load/compose/keys.py): the committed doc must be the generated one, and every
refused key of the table is refused by the loader with its reason."""

from __future__ import annotations

from pathlib import Path

from reconciler.load.compose.keys import HONOURED, REFUSED, RULES, TABLE, render_markdown

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
