"""Stage analysis of a Dockerfile: which stages a build's `target` needs, the images those
stages build on, and what the engine's built-in frontend cannot build.

Called by buildctx.context (the FROM images a build needs, at plan time) and buildctx.archive
(the Dockerfile sent: unused stages are emptied so that the classic builder, which runs every
stage up to the target, never needs their base images; a `# syntax=` directive is dropped,
so that BuildKit never fetches a frontend image from a registry).

Only the stages the target (default: the last stage) reaches through `FROM <stage>`,
`COPY --from=<stage>` and `RUN --mount=...,from=<stage>` count, as BuildKit does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from msgspec import Struct, field

from reconciler.buildctx.dockerfile import escape_char

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_VAR_DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}")
_HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_DIRECTIVE = re.compile(r"\s*#\s*([A-Za-z]+)\s*=\s*(\S*)\s*$")
_FROM_OPTION = re.compile(r"(?:^|,)from=([^,\s]+)")


class Instruction(Struct, frozen=True):
    """One Dockerfile instruction with its line span, from `instructions()`; read by `stages()`."""

    word: str  # upper case
    rest: str
    first: int  # 0-based line index of its first line
    last: int  # 0-based line index of its last line (heredoc bodies included)
    heredoc: bool = False


class Stage(Struct):
    """One FROM stage, from `stages()`; `analyse()` follows its base and refs to what it needs."""

    index: int
    name: str | None
    base: str  # substituted
    first: int  # the FROM line (0-based)
    last: int  # the stage's last line (0-based)
    refs: list[str] = field(default_factory=list)  # --from= values (COPY / RUN --mount)
    heredoc_line: int | None = None  # 1-based line of the first heredoc in this stage


class Analysis(Struct, frozen=True):
    """What one build (a Dockerfile + args + target) needs."""

    bases: tuple[str, ...]  # external images of the needed stages, in order of appearance
    text: str  # the Dockerfile to send: unused stages emptied, `# syntax=` dropped
    syntax: str | None = None  # the `# syntax=` directive's value, if any (never honoured)
    heredoc_line: int | None = None  # 1-based line of a heredoc in a needed stage
    unknown_target: bool = False  # `target` names no stage


def instructions(text: str) -> list[Instruction]:
    """Instructions with their line span: comments dropped, continuations joined, heredoc
    bodies (`RUN <<EOF ... EOF`) skipped as part of their instruction."""
    escape = escape_char(text)
    lines = text.splitlines()
    out: list[Instruction] = []
    current, first, i = "", 0, 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not current and (not stripped or stripped.startswith("#")):
            i += 1
            continue
        if current and stripped.startswith("#"):
            i += 1
            continue
        if not current:
            first = i
        if stripped.endswith(escape):
            current += stripped[: -len(escape)] + " "
            i += 1
            continue
        current += stripped
        word, _, rest = current.strip().partition(" ")
        last, heredoc = i, False
        markers = _HEREDOC.findall(rest) if word.upper() in ("RUN", "COPY", "ADD") else []
        for marker in markers:  # each heredoc body runs to its terminator line
            heredoc = True
            while last + 1 < len(lines) and lines[last + 1].strip() != marker:
                last += 1
            last = min(last + 1, len(lines) - 1)
        out.append(Instruction(word.upper(), rest.strip(), first, last, heredoc))
        current = ""
        i = last + 1
    if current.strip():
        word, _, rest = current.strip().partition(" ")
        out.append(Instruction(word.upper(), rest.strip(), first, len(lines) - 1))
    return out


def syntax_directive(text: str) -> tuple[int, str] | None:
    """(0-based line, value) of a `# syntax=` parser directive at the top, or None."""
    for number, line in enumerate(text.splitlines()):
        m = _DIRECTIVE.match(line)
        if not m:
            return None
        if m.group(1).lower() == "syntax":
            return number, m.group(2)
    return None


def stages(text: str, args: Mapping[str, str] | None = None) -> list[Stage]:
    """The stages of a Dockerfile, with `ARG` defaults declared before the first FROM and
    the build args substituted in FROM and --from values."""
    args = dict(args or {})
    variables: dict[str, str] = {}
    out: list[Stage] = []

    def subst(value: str) -> str:
        def default(m: re.Match[str]) -> str:
            return variables.get(m.group(1)) or m.group(2)

        value = _VAR_DEFAULT.sub(default, value)
        return _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)

    for ins in instructions(text):
        if ins.word == "ARG" and not out:
            for item in ins.rest.split():
                name, eq, value = item.partition("=")
                value = value.strip("\"'")
                variables[name] = args.get(name, value if eq else variables.get(name, ""))
        elif ins.word == "FROM":
            tokens = [t for t in ins.rest.split() if not t.startswith("--")]
            named = len(tokens) >= 3 and tokens[1].lower() == "as"
            base = subst(tokens[0]) if tokens else ""
            out.append(
                Stage(len(out), tokens[2].lower() if named else None, base, ins.first, ins.last)
            )
        elif out:
            stage = out[-1]
            stage.last = ins.last
            if ins.heredoc and stage.heredoc_line is None:
                stage.heredoc_line = ins.first + 1
            if ins.word in ("COPY", "ADD", "RUN"):
                for token in ins.rest.split():
                    if not token.startswith("--"):
                        break
                    if token.startswith("--from="):
                        stage.refs.append(subst(token.removeprefix("--from=")))
                    elif token.startswith("--mount="):
                        stage.refs.extend(
                            subst(v) for v in _FROM_OPTION.findall(token.removeprefix("--mount="))
                        )
    return out


def _stage_of(ref: str, found: list[Stage], before: int) -> int | None:
    """The index of the stage among the first `before` that `ref` names (by name or number),
    or None (an image)."""
    lower = ref.lower()
    for stage in found[:before]:
        if stage.name == lower:
            return stage.index
    if ref.isdigit() and int(ref) < before:
        return int(ref)
    return None


def analyse(
    text: str, args: Mapping[str, str] | None = None, target: str | None = None
) -> Analysis:
    """The images the target's stages build on, the Dockerfile to send and what the
    engine's built-in frontend would refuse."""
    found = stages(text, args)
    syntax = syntax_directive(text)
    unknown = False
    if not found:
        return Analysis((), text, syntax[1] if syntax else None)
    goal = len(found) - 1
    if target:
        named = [s.index for s in found if s.name == target.lower()]
        unknown = not named
        goal = named[0] if named else goal
    needed: set[int] = set()

    def visit(index: int) -> None:
        if index in needed:
            return
        needed.add(index)
        stage = found[index]
        for ref in (stage.base, *stage.refs):
            dep = _stage_of(ref, found, index + 1)
            if dep is not None and dep != index:
                visit(dep)

    visit(goal)
    bases: list[str] = []
    for index in sorted(needed):
        stage = found[index]
        for ref in (stage.base, *stage.refs):
            if not ref or "$" in ref or ref == "scratch" or ref.isdigit():
                continue
            if _stage_of(ref, found, index + 1) is None and ref not in bases:
                bases.append(ref)
    heredoc = next(
        (found[i].heredoc_line for i in sorted(needed) if found[i].heredoc_line is not None), None
    )
    lines = text.splitlines()
    for stage in found:
        if stage.index in needed or stage.index > goal:
            continue
        lines[stage.first] = "FROM scratch" + (f" AS {stage.name}" if stage.name else "")
        for number in range(stage.first + 1, stage.last + 1):
            lines[number] = ""
    if syntax is not None:  # dropped (after the stages' lines were used): never honoured
        del lines[syntax[0]]
    sent = "\n".join(lines) + ("\n" if text.endswith("\n") else "")
    return Analysis(
        tuple(bases),
        sent,
        syntax[1] if syntax else None,
        heredoc,
        unknown,
    )


def dockerfile_bases(
    text: str, args: Mapping[str, str] | None = None, target: str | None = None
) -> tuple[str, ...]:
    """The images the target's stages (default: the last stage's) build on: FROM images and
    `--from=<image>`; stage names, stage numbers and `scratch` left out."""
    return analyse(text, args, target).bases
