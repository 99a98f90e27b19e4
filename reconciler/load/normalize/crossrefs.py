"""Links between containers and the top-level `secrets:`/`configs:` and other containers that
the fields shared with Compose (issue 13) create, settled before load/semantics.py runs.

`link_containers` (called by load/normalize/normalizer.py once every section is read):
- a container's secret or config must name a top-level entry (a located Problem otherwise);
  two of them may not share a target;
- `network_mode: service:KEY` must name another container and adds a dependency on it
  (started), as in Compose;
- a `depends_on` entry with `required: false` whose target is not in the spec is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from msgspec.structs import replace

from reconciler.load.source import PathT
from reconciler.model import spec as S
from reconciler.model.container_options import FileSource

Report = Callable[[PathT, str], None]


def link_containers(
    containers: Mapping[str, S.ContainerSpec],
    secrets: Mapping[str, FileSource],
    configs: Mapping[str, FileSource],
    err: Report,
    declared: Mapping[str, set[str]],
) -> dict[str, S.ContainerSpec]:
    """The containers with service dependencies added and optional missing ones dropped.
    `declared` names the keys written in each top-level section (also those with errors)."""
    out = {}
    for key, c in containers.items():
        path: PathT = ("containers", key)
        targets: dict[str, str] = {}
        for kind, uses, known in (("secrets", c.secrets, secrets), ("configs", c.configs, configs)):
            for i, use in enumerate(uses):
                if use.source not in known and use.source not in declared.get(kind, set()):
                    err(
                        (*path, kind, i),
                        f"unknown {kind[:-1]} {use.source!r}: declare it under "
                        f"the top-level {kind}:",
                    )
                if use.target in targets:
                    err(
                        (*path, kind, i),
                        f"{use.target} is already the target of {targets[use.target]}",
                    )
                targets[use.target] = f"{kind}.{use.source}"
        mounted = {m.target for m in c.volumes} & set(targets)
        for target in sorted(mounted):
            err(path, f"{target} is both a volume target and the target of {targets[target]}")
        deps = tuple(d for d in c.depends_on if d.required or d.target in containers)
        mode = c.network_mode or ""
        if mode.startswith("service:"):
            other = mode.partition(":")[2]
            if other not in containers or other == key:
                err((*path, "network_mode"), f"network_mode {mode}: no other container {other!r}")
            elif all(d.target != other for d in deps):
                deps = (*deps, S.Dependency(other))
        out[key] = replace(c, depends_on=deps) if deps != c.depends_on else c
    return out
