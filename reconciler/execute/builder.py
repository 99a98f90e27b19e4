"""Which builder runs a build, and the build itself: called by execute/images.py.

`build.builder` chooses: `classic` (the engine's classic builder, through the SDK),
`buildkit` (a docker CLI that can use BuildKit, else a failure that says why), or `auto`
(the default: BuildKit when such a CLI exists, else the classic builder, said in the result).
A build that needs BuildKit (secrets, ssh) fails clearly without it, and a heredoc
(`RUN <<EOF`) is refused with its Dockerfile line where the builder cannot parse it: the
classic builder never can, and BuildKit's built-in frontend only from Docker 23 (API 1.42) on;
a newer frontend is never fetched from a registry.
"""

from __future__ import annotations

from typing import IO, Any

from msgspec import Struct

from reconciler.buildctx.archive import Archive
from reconciler.buildctx.context import dockerfile_path
from reconciler.errors import ImageError
from reconciler.execute.context import ProgressFn
from reconciler.model.labels import LABEL_SOURCE_HASH
from reconciler.model.spec import BuildSpec

HEREDOC_API = (1, 42)  # Docker 23: the built-in Dockerfile frontend parses heredocs


class Choice(Struct, frozen=True):
    """The builder `choose()` picks for a build, and the note `run_build` says in the result."""

    buildkit: bool
    note: str = ""  # said in the result: why the classic builder, what was not applied


def choose(build: BuildSpec, engine: Any, written: Archive, ref: str) -> Choice:
    """The builder for this build, or ImageError when none can build it."""
    action = f"cannot build {ref}"
    heredoc = written.source.heredoc_line
    where = f"{dockerfile_path(build)}:{heredoc}" if heredoc else ""
    needs = [k for k in ("secrets", "ssh") if getattr(build, k)]
    if build.builder == "classic":
        if heredoc:
            raise ImageError(
                f"{action}: {where}: a heredoc (`<<EOF`) needs BuildKit; `builder: classic` "
                "cannot parse it (write the lines as `RUN a && b`, or use builder auto)"
            )
        return Choice(False)
    cli, why = engine.buildkit_cli()
    if cli is None:
        if build.builder == "buildkit" or needs or heredoc:
            wanted = (
                "`builder: buildkit`"
                if build.builder == "buildkit"
                else f"build.{needs[0]}"
                if needs
                else f"the heredoc at {where}"
            )
            raise ImageError(f"{action}: {wanted} needs BuildKit, and {why}")
        return Choice(False, f"with the classic builder: BuildKit is not available ({why})")
    if heredoc and _api(engine) < HEREDOC_API:
        raise ImageError(
            f"{action}: {where}: a heredoc (`<<EOF`) needs Dockerfile frontend 1.4 or later; "
            f"this engine's built-in frontend (API {engine.api_version}, Docker before 23) "
            "lacks it, and reconciler never fetches a frontend image from a registry (write "
            "the lines as `RUN a && b`, or COPY a script)"
        )
    note = "with BuildKit"
    if build.shm_size is not None:
        note += " (shm_size is not applied: BuildKit has no such option)"
    return Choice(True, note)


def run_build(
    engine: Any,
    archive: IO[bytes],
    ref: str,
    build: BuildSpec,
    written: Archive,
    progress: ProgressFn,
    no_cache: bool = False,
) -> tuple[str, str]:
    """Build with the chosen builder: (image id, note for the result)."""
    choice = choose(build, engine, written, ref)
    if choice.note and not choice.buildkit:
        progress({"stream": f"note: building {choice.note}\n"})
    if choice.buildkit:
        image_id = engine.build_buildkit(
            archive,
            ref,
            dockerfile=written.dockerfile,
            build=build,
            labels=written.api_labels,
            expect={LABEL_SOURCE_HASH: written.source.hash},
            progress=progress,
            no_cache=no_cache,
        )
    else:
        image_id = engine.build(
            archive,
            ref,
            dockerfile=written.dockerfile,
            buildargs=build.args,
            target=build.target,
            labels=written.api_labels,
            progress=progress,
            no_cache=no_cache,
            options=build,
        )
    return str(image_id), choice.note


def _api(engine: Any) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in str(engine.api_version).split(".")[:2])
    except (AttributeError, ValueError):
        return (0, 0)
