"""From Compose files to one merged model: `include`, `extends` (same file and other files),
several `-f` files merged by Compose's rules, then `profiles`.

Called by load/compose/loader.py. Relative paths of an included file or of a service
extended from another file are made absolute (they are relative to that file, as Compose
says); those of `-f` override files stay relative to the first file's folder.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path

from msgspec import Struct, field

from reconciler.errors import Problem, SpecError
from reconciler.load.compose.files import ComposeFile, read_compose
from reconciler.load.compose.merge import Tree, canonical_service, merge_into
from reconciler.load.envfile import read_env_file
from reconciler.load.source import PathT

SECTIONS = ("services", "networks", "volumes", "secrets", "configs")
MAX_DEPTH = 20  # include / extends nesting
INCLUDE_KEYS = ("path", "project_directory", "env_file")  # keys.py: include[].*


class Resolver(Struct):
    """Reads files with the project's variables; collects problems, warnings and the files
    read (watch watches them all)."""

    variables: Mapping[str, str]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def read(self, path: Path, display: str, variables: Mapping[str, str] | None = None):
        try:
            cf: ComposeFile = read_compose(display, variables or self.variables)
        except SpecError as exc:
            self.problems.extend(exc.problems)
            return None
        if cf.doc.path not in self.files:
            self.files.append(cf.doc.path)
        self.problems.extend(cf.problems)
        self.warnings.extend(cf.warnings)
        tree = Tree.of(cf.doc, cf.data)
        for name, service in (cf.data.get("services") or {}).items():
            if isinstance(service, dict):
                canonical_service(tree, ("services", name))
        return tree

    def load(self, display: str, depth: int = 0, variables=None) -> Tree | None:
        """One file with its includes and extends resolved."""
        tree = self.read(Path(display), display, variables)
        if tree is None:
            return None
        if not isinstance(tree.data.get("services", {}), dict):
            self.problems.append(tree.problem(("services",), "services must be a mapping"))
            return tree
        self.extends(tree, depth)
        self.include(tree, depth)
        return tree

    # --- extends -------------------------------------------------------------------------------

    def extends(self, tree: Tree, depth: int) -> None:
        services = tree.data.get("services") or {}
        done: set[str] = set()
        for name in list(services):
            self._extend(tree, name, (), depth, done)

    def _extend(self, tree: Tree, name: str, chain: tuple[str, ...], depth: int, done: set[str]):
        services = tree.data["services"]
        service = services.get(name)
        path: PathT = ("services", name)
        if name in done or not isinstance(service, dict) or "extends" not in service:
            return
        if name in chain:
            self.problems.append(
                tree.problem((*path, "extends"), f"extends cycle: {' -> '.join((*chain, name))}")
            )
            return
        spec = service["extends"]
        if isinstance(spec, str):
            spec = {"service": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("service"), str):
            self.problems.append(
                tree.problem(
                    (*path, "extends"), "extends needs a service name (or {service, file})"
                )
            )
            del service["extends"]
            return
        base_name = spec["service"]
        file = spec.get("file")
        if file is not None:
            if depth >= MAX_DEPTH:
                self.problems.append(tree.problem((*path, "extends"), "extends nested too deep"))
                return
            doc, _ = tree.where(path)
            other_display = doc.display_path(str(file))
            other = self.load(other_display, depth + 1)
            if other is None:
                del service["extends"]
                return
            absolutize(other, Path(other_display).absolute().parent)
            source, source_path = other, ("services", base_name)
        else:
            self._extend(tree, base_name, (*chain, name), depth, done)
            source, source_path = tree, ("services", base_name)
        base = (source.data.get("services") or {}).get(base_name)
        if not isinstance(base, dict):
            where = f" in {file}" if file else ""
            self.problems.append(
                tree.problem((*path, "extends"), f"extends: no service {base_name!r}{where}")
            )
            del service["extends"]
            return
        local = Tree({"s": service}, {})
        local.origins[()] = tree.where(())
        local.graft(("s",), tree, path)
        merged = Tree({"s": copy.deepcopy(base)}, {})
        merged.origins[()] = tree.where(())
        merged.graft(("s",), source, source_path)
        merged.data["s"].pop("extends", None)
        del service["extends"]
        merge_into(merged, ("s",), local, ("s",))
        services[name] = merged.data["s"]
        tree.graft(path, merged, ("s",))
        done.add(name)

    # --- include -----------------------------------------------------------------------------

    def include(self, tree: Tree, depth: int) -> None:
        items = tree.data.pop("include", None)
        if items is None:
            return
        if not isinstance(items, list):
            self.problems.append(tree.problem(("include",), "include must be a list"))
            return
        doc, _ = tree.where(())
        for i, item in enumerate(items):
            ipath: PathT = ("include", i)
            if isinstance(item, str):
                item = {"path": item}
            if not isinstance(item, dict) or "path" not in item:
                self.problems.append(tree.problem(ipath, "an include entry needs a path"))
                continue
            unknown = [k for k in item if k not in INCLUDE_KEYS and not str(k).startswith("x-")]
            for key in unknown:
                self.problems.append(
                    tree.problem(
                        (*ipath, key),
                        f"include[].{key} is not a key of the Compose Specification",
                        at_key=True,
                    )
                )
            if unknown:
                continue
            paths = item["path"] if isinstance(item["path"], list) else [item["path"]]
            from_files: dict[str, str] = {}
            env_files = item.get("env_file") or []
            for name in [env_files] if isinstance(env_files, str) else env_files:
                values, found = read_env_file(
                    Path(doc.folder / str(name)).absolute(), doc.display_path(str(name))
                )
                self.problems.extend(found)
                from_files.update(values)
            variables = {**from_files, **self.variables}  # the environment wins
            if depth >= MAX_DEPTH:
                self.problems.append(tree.problem(ipath, "include nested too deep"))
                continue
            included: Tree | None = None
            for name in paths:
                display = doc.display_path(str(name))
                part = self.load(display, depth + 1, variables)
                if part is None:
                    continue
                folder = item.get("project_directory")
                base = (
                    Path(doc.display_path(str(folder))).absolute()
                    if folder
                    else Path(display).absolute().parent
                )
                absolutize(part, base)
                if included is None:
                    included = part
                else:
                    merge_into(included, (), part, ())
            if included is not None:
                self._add_included(tree, included, ipath)

    def _add_included(self, tree: Tree, included: Tree, ipath: PathT) -> None:
        for section in SECTIONS:
            theirs = included.data.get(section)
            if not isinstance(theirs, dict):
                continue
            ours = tree.data.setdefault(section, {})
            for key in theirs:
                if key in ours:
                    self.problems.append(
                        tree.problem(
                            (section, key),
                            f"{section}.{key} is also defined by the included file "
                            f"{included.where(())[0].display}",
                            "rename one of them: Compose refuses a conflicting include",
                            at_key=True,
                        )
                    )
                    continue
                ours[key] = theirs[key]
                tree.graft((section, key), included, (section, key))


def merge_files(trees: list[Tree]) -> Tree:
    """Several -f files: each later one merged into the first by Compose's rules."""
    first = trees[0]
    for other in trees[1:]:
        other.data.pop("version", None)
        merge_into(first, (), other, ())
    return first


def apply_profiles(tree: Tree, active: set[str], problems: list[Problem]) -> None:
    """Drop the services whose profiles are all inactive; a dependency on one is an error
    unless it is `required: false`."""
    services = tree.data.get("services") or {}
    enabled: set[str] = set()
    disabled: dict[str, list[str]] = {}
    for name, service in services.items():
        profiles = service.get("profiles") if isinstance(service, dict) else None
        if not profiles or "*" in active or set(map(str, profiles)) & active:
            enabled.add(name)
        else:
            disabled[name] = [str(p) for p in profiles]
    for name in enabled:
        deps = services[name].get("depends_on") if isinstance(services[name], dict) else None
        if not isinstance(deps, dict):
            continue
        for target in list(deps):
            if target not in disabled:
                continue
            options = deps[target] if isinstance(deps[target], dict) else {}
            if options.get("required", True) is False:
                del deps[target]
                continue
            problems.append(
                tree.problem(
                    ("services", name, "depends_on", target),
                    f"{target} is not enabled (profiles: {', '.join(disabled[target])})",
                    f"activate it with --profile {disabled[target][0]} or COMPOSE_PROFILES",
                    at_key=True,
                )
            )
    for name in disabled:
        del services[name]


def active_profiles(given: list[str], variables: Mapping[str, str]) -> set[str]:
    """--profile values, and COMPOSE_PROFILES (comma-separated) from the environment."""
    active = {p for p in given if p}
    active |= {p.strip() for p in variables.get("COMPOSE_PROFILES", "").split(",") if p.strip()}
    return active


def absolutize(tree: Tree, folder: Path) -> None:
    """Make the relative paths of a file's services absolute against `folder`."""
    for service in (tree.data.get("services") or {}).values():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        if isinstance(build, str) and not _remote(build):
            service["build"] = _abs(build, folder)
        elif isinstance(build, dict) and isinstance(build.get("context"), str):
            if not _remote(build["context"]):
                build["context"] = _abs(build["context"], folder)
        elif isinstance(build, dict):
            build["context"] = str(folder)
        env_file = service.get("env_file")
        if isinstance(env_file, str):
            service["env_file"] = _abs(env_file, folder)
        elif isinstance(env_file, list):
            for i, item in enumerate(env_file):
                if isinstance(item, str):
                    env_file[i] = _abs(item, folder)
                elif isinstance(item, dict) and isinstance(item.get("path"), str):
                    item["path"] = _abs(item["path"], folder)
        volumes = service.get("volumes")
        volumes = volumes if isinstance(volumes, list) else []
        for i, item in enumerate(volumes):
            if isinstance(item, str) and item.startswith((".", "~")):
                source, sep, rest = item.partition(":")
                volumes[i] = _abs(source, folder) + sep + rest
            elif isinstance(item, dict) and str(item.get("source", "")).startswith((".", "~")):
                item["source"] = _abs(item["source"], folder)


def _remote(context: str) -> bool:
    return "://" in context or context.startswith("git@")


def _abs(name: str, folder: Path) -> str:
    return os.path.normpath(os.path.join(folder, os.path.expanduser(name)))
