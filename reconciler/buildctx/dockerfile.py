"""Dockerfile text: its escape character, and a LABEL instruction appended.

Used by buildctx.stages (instructions, variables: the stages and FROM images of a build) and
buildctx.archive (the labels of a built image written into the Dockerfile it sends).
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def with_label_instruction(dockerfile: bytes, labels: Mapping[str, str]) -> bytes:
    """The Dockerfile with one `LABEL "k"="v" ...` instruction appended (values quoted with the
    Dockerfile's escape character, `$` escaped so nothing is substituted)."""
    text = dockerfile.decode("utf-8", errors="surrogateescape")
    escape = escape_char(text)

    def quote(value: str) -> str:
        out = value.replace(escape, escape + escape)
        for ch in ('"', "$"):
            out = out.replace(ch, escape + ch)
        return '"' + out.replace("\n", " ") + '"'

    pairs = " ".join(f"{quote(k)}={quote(v)}" for k, v in sorted(labels.items()))
    if text and not text.endswith("\n"):
        text += "\n"
    text += f"\nLABEL {pairs}\n"
    return text.encode("utf-8", errors="surrogateescape")


def escape_char(text: str) -> str:
    """The escape character: a leading `# escape=` parser directive's, else a backslash."""
    for line in text.splitlines():
        m = re.match(r"\s*#\s*escape\s*=\s*(\S)\s*$", line, re.IGNORECASE)
        if m:
            return m.group(1)
        if not re.match(r"\s*#\s*\w+\s*=", line):
            break
    return "\\"
