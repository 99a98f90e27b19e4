"""Every key of the merged Compose model against the table (load/compose/keys.py): a key the
Compose Specification does not have, or one reconciler refuses, is a located error that names
the key and says why. Nothing is silently dropped. Called by load/compose/loader.py after
profiles are applied (a disabled service is not checked, as Compose ignores it)."""

from __future__ import annotations

from typing import Any

from reconciler.errors import Problem
from reconciler.load.compose.keys import NAME_LEVELS, PARENTS, TABLE, child_pattern, refusal
from reconciler.load.compose.merge import Tree
from reconciler.load.source import PathT


def check_keys(tree: Tree) -> list[Problem]:
    problems: list[Problem] = []
    _walk(tree, tree.data, "", (), problems)
    return problems


def _walk(tree: Tree, value: Any, pattern: str, path: PathT, problems: list[Problem]) -> None:
    if isinstance(value, list):
        item_pattern = f"{pattern}[]"
        if item_pattern in PARENTS:
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    _walk(tree, item, item_pattern, (*path, i), problems)
        return
    if not isinstance(value, dict) or (pattern not in PARENTS and pattern not in NAME_LEVELS):
        return
    for key, sub in value.items():
        key = str(key)
        if key.startswith("x-"):
            continue  # extension fields: allowed anywhere, ignored
        child = child_pattern(pattern, key)
        kpath = (*path, key)
        if pattern in NAME_LEVELS:
            _walk(tree, sub, child, kpath, problems)
            continue
        rule = refusal(child)
        if rule is not None:
            problems.append(tree.problem(kpath, f"{_shown(child)}: {rule.how}", at_key=True))
            continue
        if child not in TABLE:
            problems.append(
                tree.problem(
                    kpath, f"{_shown(child)} is not a key of the Compose Specification", at_key=True
                )
            )
            continue
        _walk(tree, sub, child, kpath, problems)


def _shown(pattern: str) -> str:
    """`services.*.develop` -> `develop`; `services.*.build.ssh` -> `build.ssh`."""
    for prefix in ("services.*.", "networks.*.", "volumes.*."):
        if pattern.startswith(prefix):
            return pattern[len(prefix) :]
    return pattern
