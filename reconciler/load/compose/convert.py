"""`render_v1()`: the spec v1 document made from Compose files, as YAML text, with a comment
where a value was rewritten (a condition renamed, a default tag made explicit, ...). Every `$`
is written `$$`, since spec v1 interpolates again. Called by commands/convert.py; the result
gives the same plan as the Compose files (tests/unit/load/test_compose_convert.py)."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.load.source import PathT


def render_v1(data: dict[str, Any], notes: dict[PathT, str], sources: list[str]) -> str:
    lines = [
        f"# converted from {', '.join(sources)} by `reconciler convert`",
        "# (variables were substituted with the values they had then)",
    ]
    _emit(data, (), 0, notes, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        value = value.replace("$", "$$")
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text.removesuffix("...").strip()


def _comment(notes: dict[PathT, str], path: PathT) -> str:
    note = notes.get(path)
    return f"  # {note}" if note else ""


def _emit(value: Any, path: PathT, indent: int, notes: dict[PathT, str], lines: list[str]):
    pad = "  " * indent
    if isinstance(value, dict):
        for key, sub in value.items():
            kpath = (*path, key)
            shown = _scalar(str(key))
            if isinstance(sub, (dict, list)) and sub:
                lines.append(f"{pad}{shown}:{_comment(notes, kpath)}")
                _emit(sub, kpath, indent + 1, notes, lines)
            else:
                empty = "{}" if isinstance(sub, dict) else "[]" if isinstance(sub, list) else None
                lines.append(f"{pad}{shown}: {empty or _scalar(sub)}{_comment(notes, kpath)}")
        return
    for i, item in enumerate(value):
        ipath = (*path, i)
        if isinstance(item, dict) and item:
            sub_lines: list[str] = []
            _emit(item, ipath, indent + 1, notes, sub_lines)
            first = sub_lines[0].lstrip()
            lines.append(f"{pad}- {first}{_comment(notes, ipath)}")
            lines.extend(sub_lines[1:])
        elif isinstance(item, list) and item:
            lines.append(f"{pad}- {_scalar(item)}{_comment(notes, ipath)}")
        else:
            lines.append(f"{pad}- {_scalar(item)}{_comment(notes, ipath)}")
