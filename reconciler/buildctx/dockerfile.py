"""Dockerfile text: its instructions, the images it builds on, and a LABEL line appended.

Used by buildctx.context (the FROM images of a build) and buildctx.archive (the labels of a
built image written into the Dockerfile it sends).
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def with_label_instruction(dockerfile: bytes, labels: Mapping[str, str]) -> bytes:
    """The Dockerfile with one `LABEL "k"="v" ...` instruction appended (values quoted with the
    Dockerfile's escape character, `$` escaped so nothing is substituted)."""
    text = dockerfile.decode("utf-8", errors="surrogateescape")
    escape = _escape_char(text)

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


def _escape_char(text: str) -> str:
    for line in text.splitlines():
        m = re.match(r"\s*#\s*escape\s*=\s*(\S)\s*$", line, re.IGNORECASE)
        if m:
            return m.group(1)
        if not re.match(r"\s*#\s*\w+\s*=", line):
            break
    return "\\"


_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_VAR_DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    escape = _escape_char(text)  # parser directives come first: `# escape=``
    lines = text.splitlines()
    out: list[tuple[str, str]] = []
    current = ""
    for raw in lines:
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped
        if stripped.endswith(escape):
            current += stripped[: -len(escape)] + " "
            continue
        current += stripped
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    if current.strip():
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_bases(text: str, args: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The images a Dockerfile builds on: FROM images and `COPY --from=<image>`, with `ARG`
    defaults declared before the first FROM and the build args substituted; stage names,
    stage numbers and `scratch` are left out. Order of first appearance."""
    args = dict(args or {})
    variables: dict[str, str] = {}
    stages: set[str] = set()
    out: list[str] = []
    seen_from = False

    def subst(value: str) -> str:
        def default(m: re.Match[str]) -> str:
            return variables.get(m.group(1)) or m.group(2)

        value = _VAR_DEFAULT.sub(default, value)
        return _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)

    def add(ref: str) -> None:
        ref = subst(ref)
        if not ref or "$" in ref or ref.lower() in stages or ref == "scratch" or ref.isdigit():
            return
        if ref not in out:
            out.append(ref)

    for word, rest in dockerfile_instructions(text):
        if word == "ARG" and not seen_from:
            for item in rest.split():
                name, eq, value = item.partition("=")
                value = value.strip("\"'")
                variables[name] = args.get(name, value if eq else variables.get(name, ""))
        elif word == "FROM":
            seen_from = True
            tokens = [t for t in rest.split() if not t.startswith("--")]
            if not tokens:
                continue
            add(tokens[0])
            if len(tokens) >= 3 and tokens[1].lower() == "as":
                stages.add(tokens[2].lower())
        elif word in ("COPY", "ADD"):
            for token in rest.split():
                if token.startswith("--from="):
                    add(token.removeprefix("--from="))
                elif not token.startswith("--"):
                    break
    return tuple(out)
