"""What defines a built image: computed by buildctx (I/O), compared by the planner (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import Struct, field


class BuildSource(Struct, frozen=True):
    """What defines a built image, computed before planning (I/O) and compared by the planner
    (pure) with the labels of the image present."""

    hash: str = ""  # the io.reconciler.source-hash value
    manifest: Mapping[str, str] = field(default_factory=dict)  # relpath -> short hash
    inputs: Mapping[str, str] = field(default_factory=dict)  # dockerfile/args/target/labels
    bases: tuple[str, ...] = ()  # images named by FROM / COPY --from (stages removed)
    error: str | None = None  # why the context could not be read (a plan error)
    syntax: str | None = None  # a `# syntax=` directive (dropped: no frontend is fetched)
    heredoc_line: int | None = None  # 1-based line of a heredoc in a needed stage
