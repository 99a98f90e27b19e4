"""The shape of the package (docs/architecture.md), checked on the source text:

- no import circles between reconciler's modules;
- no reconciler import inside a function, except at the declared lazy seams (LAZY_SEAMS): the
  stages a no-op pass does not need;
- heavy third-party packages are imported only lazily (inside functions), so that the read
  path stays fast;
- no module over ~400 lines and no class over ~300 lines.
The one-way rule between stages is checked by import-linter (`make lint`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"
HEAVY = {"docker", "requests", "urllib3", "jsonschema", "rich", "watchdog", "prometheus_client"}
MODULE_LINES = 420
CLASS_LINES = 300
# The only imports of reconciler modules inside functions: each keeps a stage off the path
# of work that does not need it (docs/architecture.md, "Lazy seams"). Anything else is imported
# at the top of its module, so the import graph stays visible.
# (cli.py loads the one command that runs with importlib.import_module: `--help` stays fast.)
LAZY_SEAMS = {
    "reconciler.reconcile": {  # a no-op pass (apply, plan, status) needs neither
        "reconciler.execute.scheduler",  # the executor: only a plan with changes
        "reconciler.buildctx.context",  # the build contexts: only a spec with builds
    },
    "reconciler.load.inputs": {"reconciler.load.compose.loader"},  # Compose input only
    "reconciler.load.source": {"reconciler.load.yamlparse"},  # PyYAML: a cache miss only
    # the package's names on first use: cli.py starts engine/readahead.py before the adapter
    "reconciler.engine": {"reconciler.engine.adapter", "reconciler.engine.port"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The reconciler modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:  # relative: from the module's package (an __init__ is its own package)
        package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
        for _ in range(node.level - 1):
            package = package.rsplit(".", 1)[0]
        base = f"{package}.{base}" if base else package
    targets = [base]
    targets += [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    return targets


def _top_level_imports(module: str, tree: ast.Module) -> set[str]:
    out: set[str] = set()
    for node in tree.body:
        stmts = [node]
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks do not run
            continue
        if isinstance(node, ast.Try):
            stmts = [*node.body]
        for stmt in stmts:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                out.update(t for t in _resolve(module, stmt) if t in MODULES and t != module)
    return out


def _function_imports(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    found += [(node.lineno, a.name) for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    found.append((node.lineno, node.module or ""))
    return found


def _trees() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


TREES = _trees()


def test_no_import_circles():
    graph = {name: _top_level_imports(name, tree) for name, tree in TREES.items()}
    # A package's __init__ importing its own submodules is not a circle with them.
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if node.startswith(dep + "."):  # a submodule importing its package's __init__
                continue
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_internal_import_inside_a_function(module):
    allowed = LAZY_SEAMS.get(module, set())
    lazy = [
        f"line {line}: {name}"
        for line, name in _function_imports(TREES[module])
        if name.split(".")[0] == "reconciler"
        and not any(name == seam or name.startswith(seam + ".") for seam in allowed)
    ]
    assert lazy == []


def test_lazy_seams_are_used():
    """A seam listed above that no longer exists is removed from the list."""
    for module, seams in LAZY_SEAMS.items():
        imported = {name for _, name in _function_imports(TREES[module])}
        for seam in seams:
            assert any(n == seam or n.startswith(seam + ".") for n in imported), (module, seam)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_heavy_packages_are_imported_lazily(module):
    top = [
        node
        for node in TREES[module].body
        if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0)
    ]
    names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert [n for n in names if n.split(".")[0] in HEAVY] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_classes_stay_small(module):
    path = MODULES[module]
    lines = path.read_text().count("\n")
    assert lines <= MODULE_LINES, f"{path.name}: {lines} lines"
    big = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(TREES[module])
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > CLASS_LINES
    ]
    assert big == []


def test_every_module_says_what_it_does():
    missing = [name for name, tree in TREES.items() if not ast.get_docstring(tree)]
    assert missing == []
