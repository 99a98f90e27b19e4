#!/usr/bin/env python3
"""Write docs/compose.md from the Compose key table (reconciler/load/compose/keys.py).

Run after changing the table: `.venv/bin/python scripts/gen-compose-doc.py`.
tests/unit/load/test_compose_doc.py fails when the committed doc is not the generated one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.load.compose.doc import render_markdown  # noqa: E402

if __name__ == "__main__":
    target = ROOT / "docs" / "compose.md"
    target.write_text(render_markdown())
    print(f"wrote {target.relative_to(ROOT)}")
