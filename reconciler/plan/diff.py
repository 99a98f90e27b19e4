"""Field-level differences between a recorded config and a desired one: `env.FOO`,
`ports[0]`, `image_id`. Pure; used by every planner module for the plan's field diffs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model.plan import FieldDiff


def diff_configs(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldDiff, ...]:
    """Field-level differences: `env.FOO`, `ports[0]`, `image_id`. Lists of equal length are
    compared item by item; otherwise the whole list is one difference."""
    out: list[FieldDiff] = []
    _diff("", before, after, out)
    return tuple(out)


def _diff(path: str, before: Any, after: Any, out: list[FieldDiff]) -> None:
    if before == after:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for k in sorted(set(before) | set(after)):
            if k == "image_id" and after.get(k) is None and path == "":
                continue  # not known until the image is pulled or built
            sub = f"{path}.{k}" if path else str(k)
            _diff(sub, before.get(k), after.get(k), out)
        return
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and len(before) == len(after)
        and all(isinstance(x, Mapping) for x in before + after)
    ):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            if b != a:
                out.append(FieldDiff(f"{path}[{i}]", b, a))
        return
    out.append(FieldDiff(path, before, after))
