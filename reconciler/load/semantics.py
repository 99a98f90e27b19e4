"""Checks across entries, on the normalised Spec: image references, duplicate tags, build
files, commit and depends_on cycles, host port clashes and ranges per replica, container names,
networks, and options an external network or volume cannot set.

The last step of load/loader.py's pipeline; it reports located problems and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import Problem
from reconciler.load.hints import not_a_key_warning, suggest, typo_of
from reconciler.load.normalize.scalars import reference_problem
from reconciler.load.source import Document, PathT, render_path
from reconciler.model import spec as S


class Semantics:
    """Checks across entries, on the normalised values (entries that normalised)."""

    def __init__(
        self,
        doc: Document,
        data: Any,
        spec: S.Spec,
        port_paths: Mapping[str, list[PathT]],
    ):
        self.doc = doc
        self.data = data if isinstance(data, dict) else {}
        self.spec = spec
        self.port_paths = port_paths  # container key -> path of each normalised port
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []  # located, but valid: shown by validate and plan

        def keys(section: str) -> list[str]:
            value = self.data.get(section)
            return list(value) if isinstance(value, dict) else []

        self.image_keys = keys("images")
        self.container_keys = keys("containers")
        self.network_keys = keys("networks")

    def err(self, path: PathT, message: str, hint: str | None = None, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, hint, at_key))

    def raw(self, path: PathT) -> Any:
        value: Any = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def run(self) -> list[Problem]:
        self.image_refs()
        self.build_files()
        self.commit_cycles()
        self.dependencies()
        self.ports()
        self.names()
        self.networks()
        self.externals()
        return self.problems

    # images ----------------------------------------------------------------------------------
    def resolve_image(self, image: str, path: PathT, what: str) -> None:
        if image in self.image_keys:
            return
        why = reference_problem(image)
        bare = "/" not in image and ":" not in image and "@" not in image
        guess = typo_of(image, self.image_keys) if bare else None
        if guess is None and why is not None and self.image_keys:
            guess = suggest(image, self.image_keys)
        if why is None and guess is None:
            if bare:
                self.warnings.append(self.doc.problem(path, *not_a_key_warning(image)))
            return
        if guess:
            hint = f'did you mean "{guess}"?'
            if why is None:
                hint += f" To use the image {image} itself, write {image}:latest"
            self.err(path, f"unknown images key {image!r}", hint)
            return
        hint = f"images keys: {', '.join(self.image_keys)}" if self.image_keys else None
        self.err(path, f"{why}, and not an images key", hint)

    def image_refs(self) -> None:
        for key, c in self.spec.containers.items():
            self.resolve_image(c.image, ("containers", key, "image"), "image")
        produced: dict[str, str] = {}
        for key, image in self.spec.images.items():
            if image.commit is not None:
                self.resolve_image(image.commit.base, ("images", key, "commit", "from"), "from")
            if image.kind in ("build", "commit"):
                other = produced.get(image.reference)
                if other is not None:
                    at = (
                        ("images", key, "tag")
                        if self.raw(("images", key, "tag"))
                        else ("images", key)
                    )
                    self.err(
                        at,
                        f"images.{other} already produces the tag {image.reference}",
                        "give each built or committed image its own tag",
                    )
                else:
                    produced[image.reference] = key

    def build_files(self) -> None:
        for key, image in self.spec.images.items():
            if image.build is None:
                continue
            base: PathT = ("images", key, "build")
            raw = self.raw(base)
            ctx_path = (*base, "context") if isinstance(raw, dict) and "context" in raw else base
            context = Path(image.build.context)
            if not context.is_dir():
                what = "is not a folder" if context.exists() else "not found"
                self.err(ctx_path, f"build context {what}: {context}")
                continue
            dockerfile = context / image.build.dockerfile
            if not dockerfile.is_file():
                at = (
                    (*base, "dockerfile")
                    if isinstance(raw, dict) and "dockerfile" in raw
                    else ctx_path
                )
                self.err(at, f"Dockerfile not found: {dockerfile}")

    def commit_cycles(self) -> None:
        edges = {
            k: [i.commit.base]
            for k, i in self.spec.images.items()
            if i.commit is not None and i.commit.base in self.spec.images
        }
        for cycle in _cycles(edges):
            first = cycle[0]
            self.err(
                ("images", first, "commit", "from"),
                "images commit from each other in a cycle: " + " -> ".join([*cycle, first]),
            )

    # containers --------------------------------------------------------------------------------
    def dep_path(self, key: str, index: int, target: str) -> PathT:
        raw = self.raw(("containers", key, "depends_on"))
        if isinstance(raw, dict):
            return ("containers", key, "depends_on", target)
        if isinstance(raw, list) and target in raw:
            return ("containers", key, "depends_on", raw.index(target))
        return ("containers", key, "depends_on")

    def dependencies(self) -> None:
        edges: dict[str, list[str]] = {}
        for key, c in self.spec.containers.items():
            seen = set()
            for i, dep in enumerate(c.depends_on):
                path = self.dep_path(key, i, dep.target)
                at_key = isinstance(path[-1], str) and path[-1] == dep.target
                if dep.target in seen:
                    self.err(path, f"depends on {dep.target!r} twice")
                    continue
                seen.add(dep.target)
                if dep.target not in self.container_keys:
                    guess = suggest(dep.target, self.container_keys)
                    hint = f'did you mean "{guess}"?' if guess else None
                    self.err(path, f"unknown container {dep.target!r}", hint, at_key=at_key)
                    continue
                edges.setdefault(key, []).append(dep.target)
        for cycle in _cycles(edges):
            first = cycle[0]
            path = self.dep_path(first, 0, cycle[1] if len(cycle) > 1 else first)
            self.err(
                path,
                "depends_on forms a cycle: " + " -> ".join([*cycle, first]),
                at_key=isinstance(path[-1], str) and path[-1] != "depends_on",
            )

    def port_path(self, key: str, binding_index: int) -> PathT:
        paths = self.port_paths.get(key, [])
        if binding_index < len(paths):
            return paths[binding_index]
        return ("containers", key, "ports")

    def ports(self) -> None:
        if self.spec.target == "swarm":  # one published port per service: load/swarm.py
            return
        # (protocol, host port) -> [(host ip, owner description, path)]
        taken: dict[tuple[str, int], list[tuple[str, str, PathT]]] = {}
        for key, c in self.spec.containers.items():
            if c.state == "absent":
                continue
            for i, p in enumerate(c.ports):
                path = self.port_path(key, i)
                if p.host_port is None:
                    continue
                size = 1 if p.host_port_end is None else p.host_port_end - p.host_port + 1
                if c.replicas == 0:
                    continue
                if p.container_port_end is not None:  # a container range: fixed host ports
                    if c.replicas > 1:
                        self.err(path, "a container port range needs replicas: 1")
                        continue
                    for port in range(p.host_port, (p.host_port_end or p.host_port) + 1):
                        owner = f"containers.{key}"
                        taken.setdefault((p.protocol, port), []).append((p.host_ip, owner, path))
                    continue
                if p.host_port_end is None and c.replicas > 1:
                    self.err(
                        path,
                        f"replicas is {c.replicas} but the host port {p.host_port} is a single "
                        "port: every replica would publish it",
                        f"give a range of {c.replicas} ports like "
                        f'"{p.host_port}-{p.host_port + c.replicas - 1}", or omit the host port',
                    )
                    continue
                if p.host_port_end is not None and size != c.replicas:
                    self.err(
                        path,
                        f"the host port range {p.host_port}-{p.host_port_end} has {size} ports "
                        f"but replicas is {c.replicas}",
                        f"a range gives one port per replica: use "
                        f'"{p.host_port}-{p.host_port + c.replicas - 1}"',
                    )
                    continue
                for replica in range(1, c.replicas + 1):
                    port = p.host_port_for(replica)
                    assert port is not None
                    owner = f"containers.{key}" + (
                        f" (replica {replica})" if c.replicas > 1 else ""
                    )
                    clash = None
                    for ip, other, other_path in taken.get((p.protocol, port), []):
                        if _ips_overlap(ip, p.host_ip):
                            clash = (other, other_path)
                            break
                    taken.setdefault((p.protocol, port), []).append((p.host_ip, owner, path))
                    if clash:
                        where = f" on {p.host_ip}" if p.host_ip else ""
                        self.err(
                            path,
                            f"host port {port}/{p.protocol}{where} is already published by "
                            f"{clash[0]} at {render_path(clash[1])}",
                        )
                        break

    def names(self) -> None:
        generated: dict[str, str] = {}
        for key, c in self.spec.containers.items():
            if c.name is None and c.replicas <= S.MAX_REPLICAS:  # more: a schema error
                for replica in range(1, max(c.replicas, 1) + 1):
                    generated[S.container_name(self.spec.project, c, replica)] = key
        explicit: dict[str, str] = {}
        for key, c in self.spec.containers.items():
            if c.name is None:
                continue
            path = ("containers", key, "name")
            if c.replicas > 1:
                self.err(
                    path,
                    f"an explicit name needs replicas: 1, not {c.replicas}",
                    "remove name to get <project>-<key>-<replica> names",
                )
            if c.name in explicit:
                self.err(path, f"containers.{explicit[c.name]} already has the name {c.name!r}")
                continue
            if c.name in generated:
                self.err(
                    path,
                    f"{c.name!r} is the generated name of containers.{generated[c.name]}",
                )
                continue
            explicit[c.name] = key

    def networks(self) -> None:
        for key, c in self.spec.containers.items():
            raw = self.raw(("containers", key, "networks"))
            for i, attachment in enumerate(c.networks):
                if attachment.network in self.network_keys or attachment.network == "default":
                    continue
                if isinstance(raw, dict):
                    path: PathT = ("containers", key, "networks", attachment.network)
                else:
                    path = ("containers", key, "networks", i)
                guess = suggest(attachment.network, self.network_keys)
                if guess:
                    hint = f'did you mean "{guess}"?'
                else:
                    hint = "declare it under the top-level networks:"
                self.err(
                    path,
                    f"unknown network {attachment.network!r}",
                    hint,
                    at_key=isinstance(raw, dict),
                )

    def externals(self) -> None:
        """An external network or volume is only used: options that define one are errors."""
        defining = {
            "networks": ("driver", "internal", "labels", "subnet"),
            "volumes": ("driver", "driver_opts", "labels"),
        }
        for section, options in defining.items():
            value = self.data.get(section)
            for key, entry in (value or {}).items() if isinstance(value, dict) else ():
                if not isinstance(entry, dict) or entry.get("external") is not True:
                    continue
                for option in options:
                    if option in entry:
                        self.err(
                            (section, key, option),
                            f"an external {section[:-1]} is created outside this spec: "
                            f"`{option}` cannot be set",
                            at_key=True,
                        )


def _ips_overlap(a: str, b: str) -> bool:
    wildcard = ("", "0.0.0.0", "::")
    return a == b or a in wildcard or b in wildcard


def _cycles(edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Cycles found by a depth-first search (iterative: long chains are fine), each once,
    rotated to start at its smallest key."""
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for root in sorted(edges):
        if root in state:
            continue
        stack: list[str] = [root]
        iters = [iter(edges.get(root, []))]
        state[root] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[stack.pop()] = 2
                iters.pop()
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                start = cycle.index(min(cycle))
                cycle = cycle[start:] + cycle[:start]
                if tuple(cycle) not in seen:
                    seen.add(tuple(cycle))
                    found.append(cycle)
            elif nxt not in state:
                state[nxt] = 1
                stack.append(nxt)
                iters.append(iter(edges.get(nxt, [])))
    return found
