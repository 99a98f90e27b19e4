"""Runs image changes: pull, build, commit and remove. Registered for kind `image` in
registry.py; the planner (plan/images.py, plan/image_removals.py) decides them.

A result is UNCHANGED when nothing had to be done (a conditional build or commit whose base
kept its ID, an image that turned out to be still in use). Every failure is an ImageError
whose message names the image and the cause.

- build: the context archive is written by buildcontext.write_archive, which hashes exactly
  the bytes sent, so the source-hash label describes what was built. A FROM image of the
  target's stages that is missing is pulled first (as `docker build` does); execute/builder.py
  chooses BuildKit or the classic builder and runs the build.
- commit: one work container of the base (an idle shell, no labels), each `run` step through
  `sh -c` with `docker exec`, in order, then a commit with the recipe's `changes` and the
  ownership + source-hash labels. The work container is removed on success and on failure.
- remove: only an image that nothing uses any more, tagged with nothing but the reference it
  was made under; anything else is kept and said so.
"""

from __future__ import annotations

import contextlib
import tempfile
from typing import Any

from reconciler.buildctx import archive as buildcontext
from reconciler.errors import Conflict, EngineError, EngineUnavailable, ImageError
from reconciler.execute.builder import run_build
from reconciler.execute.context import ProgressFn, RunContext
from reconciler.execute.outcome import Result, Status
from reconciler.model.ids import short_id
from reconciler.model.labels import (
    LABEL_BASES,
    LABEL_MANIFEST,
    LABEL_REFERENCE,
    LABEL_SOURCE_HASH,
    canonical_json,
    decode_bases,
    encode_manifest,
    ownership_labels,
)
from reconciler.model.plan import Action, Change, ImageIntent, ImageRemovalIntent
from reconciler.model.spec import Spec
from reconciler.model.state import normalise_reference
from reconciler.plan.image_removals import names_text
from reconciler.plan.images import commit_inputs, commit_source_hash

# The commit work container idles until it is removed (SIGTERM ends it at once).
IDLE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
OUTPUT_TAIL = 10


class ImageHandler:
    """The handler registered for kind `image`."""

    def releases(self, change: Change) -> bool:
        return False

    def claims(self, change: Change) -> bool:
        return False

    def run(self, change: Change, ctx: RunContext) -> Result:
        progress = ctx.progress(change)
        if change.action is Action.PULL:
            return pull(change, ctx.engine, progress)
        return ImageActions(ctx.spec, ctx.engine).run(change, progress)


def pull(change: Change, engine: Any, progress: ProgressFn) -> Result:
    image_id = engine.pull(change.target.name, progress)
    if (change.before or {}).get("id") == image_id:  # policy always, nothing new
        return Result(Status.UNCHANGED, f"pulled; image {short_id(image_id)} unchanged")
    return Result(message=f"pulled {short_id(image_id)}")


class ImageActions:
    """Builds, commits and removals of one spec's images."""

    def __init__(self, spec: Spec | None, engine: Any) -> None:
        self._spec = spec  # None only for removals (destroy without a spec)
        self.engine = engine

    @property
    def spec(self) -> Spec:
        if self._spec is None:
            raise ImageError("builds and commits need the spec")
        return self._spec

    def run(self, change: Change, progress: ProgressFn | None = None) -> Result:
        progress = progress or (lambda event: None)
        if change.action is Action.BUILD:
            return self.build(change, progress)
        if change.action is Action.COMMIT:
            return self.commit(change, progress)
        if change.action is Action.REMOVE:
            return self.remove(change)
        raise ImageError(f"{change.action} is not an image action")

    # --- build -----------------------------------------------------------------------------------

    def build(self, change: Change, progress: ProgressFn) -> Result:
        image = self.spec.images[change.target.key]
        build = image.build
        if build is None:
            raise ImageError(f"images.{image.key} is not a build")
        ref = image.reference
        found: dict[str, dict[str, str]] = {}

        def labels_for(source: buildcontext.BuildSource) -> dict[str, str]:
            found["bases"] = bases = self._base_ids(ref, source.bases, progress)
            return {
                **build.labels,
                **ownership_labels(self.spec.project, image.key, "image"),
                LABEL_SOURCE_HASH: source.hash,
                LABEL_MANIFEST: encode_manifest(
                    {"files": dict(source.manifest), "inputs": dict(source.inputs)}
                ),
                LABEL_BASES: canonical_json(bases),
                LABEL_REFERENCE: ref,
            }

        with tempfile.TemporaryFile() as archive:
            try:
                written = buildcontext.write_archive(build, archive, labels_for)
            except (OSError, ValueError) as exc:
                raise ImageError(
                    f"cannot build {ref}: cannot read the build context: {exc}"
                ) from exc
            if change.conditional:
                current = self.engine.inspect_image(ref)
                labels = (current or {}).get("labels") or {}
                if (
                    labels.get(LABEL_SOURCE_HASH) == written.source.hash
                    and decode_bases(labels.get(LABEL_BASES)) == found["bases"]
                ):
                    return Result(Status.UNCHANGED, "base image ID unchanged; nothing to rebuild")
            archive.seek(0)
            image_id, note = run_build(
                self.engine,
                archive,
                ref,
                build,
                written,
                progress,
                no_cache=change.intent_as(ImageIntent).no_cache,
            )
        return Result(message=f"built {short_id(image_id)}" + (f" {note}" if note else ""))

    def _base_ids(
        self, ref: str, bases: tuple[str, ...], progress: ProgressFn | None = None
    ) -> dict[str, str]:
        """The ID of every image the target's stages build on; a missing one is pulled on
        demand, as `docker build` does."""
        out: dict[str, str] = {}
        for base in bases:
            base_id = self.engine.image_id(base)
            if base_id is None:
                try:
                    base_id = self.engine.pull(base, progress)
                except ImageError as exc:
                    raise ImageError(
                        f"cannot build {ref}: the Dockerfile builds FROM {base}, which is not "
                        f"present locally and could not be pulled: {exc}"
                    ) from exc
            out[base] = base_id
        return out

    # --- commit ----------------------------------------------------------------------------------

    def commit(self, change: Change, progress: ProgressFn) -> Result:
        image = self.spec.images[change.target.key]
        recipe = image.commit
        if recipe is None:
            raise ImageError(f"images.{image.key} is not a commit")
        ref = image.reference
        base_ref = self.spec.image_reference(recipe.base)
        base = self.engine.inspect_image(base_ref)
        if base is None:
            raise ImageError(f"cannot commit {ref}: base image {base_ref} is not present locally")
        source = commit_source_hash(base["id"], recipe)
        if change.conditional:
            current = self.engine.inspect_image(ref)
            if current and current["labels"].get(LABEL_SOURCE_HASH) == source:
                return Result(Status.UNCHANGED, "base image ID unchanged; nothing to commit")
        labels = {
            **ownership_labels(self.spec.project, image.key, "image"),
            LABEL_SOURCE_HASH: source,
            LABEL_MANIFEST: encode_manifest({"inputs": commit_inputs(recipe)}),
            LABEL_BASES: canonical_json({base_ref: base["id"]}),
            LABEL_REFERENCE: ref,
        }
        name = f"{self.spec.project}--commit--{image.key}"
        try:
            self.engine.remove_container(name)  # a leftover of an interrupted run
            cid = self.engine.create_helper_container(base["id"], name, IDLE)
        except (ImageError, EngineUnavailable):
            raise
        except EngineError as exc:
            raise ImageError(f"cannot commit {ref}: {exc}") from exc
        try:
            image_id = self._run_steps_and_commit(cid, ref, recipe, base, labels, progress)
        finally:
            with contextlib.suppress(EngineError):
                self.engine.remove_container(cid, volumes=True)
        return Result(message=f"committed {short_id(image_id)}")

    def _run_steps_and_commit(self, cid, ref, recipe, base, labels, progress) -> str:
        try:
            self.engine.start_container(cid)
            total = len(recipe.run)
            for number, step in enumerate(recipe.run, start=1):
                progress({"stream": f"Step {number}/{total} : RUN {step}\n"})
                code, output = self.engine.exec_run(cid, ["/bin/sh", "-c", step])
                if output:
                    progress({"stream": output if output.endswith("\n") else output + "\n"})
                if code != 0:
                    tail = [line for line in output.splitlines() if line.strip()][-OUTPUT_TAIL:]
                    message = (
                        f"cannot commit {ref}: step {number}/{total} ({step}) exited with "
                        f"code {code}"
                    )
                    if tail:
                        message += "\n" + "\n".join(f"    | {line}" for line in tail)
                    raise ImageError(message)
            return self.engine.commit(cid, ref, base=base, changes=recipe.changes, labels=labels)
        except (ImageError, EngineUnavailable):
            raise
        except EngineError as exc:
            raise ImageError(f"cannot commit {ref}: {exc}") from exc

    # --- remove ----------------------------------------------------------------------------------

    def remove(self, change: Change) -> Result:
        intent = change.intent_as(ImageRemovalIntent)
        untag = intent.untag
        if untag:
            image_id = self.engine.image_id(untag)
            if image_id is None:
                return Result(Status.UNCHANGED, "already gone")
            users = self.engine.image_users(image_id)
            if users:
                return Result(
                    Status.UNCHANGED, f"kept: still used by container(s) {names_text(users)}"
                )
            return self._remove(untag, f"removed {untag}")
        image_id = intent.image_id
        info = self.engine.inspect_image(image_id)
        if info is None:
            return Result(Status.UNCHANGED, "already gone")
        reference = intent.reference
        tags = {normalise_reference(t) for t in info["tags"]}
        mine = normalise_reference(reference) if reference else None
        if intent.superseded and mine in tags:
            return Result(Status.UNCHANGED, "still the current image (nothing new was made); kept")
        others = sorted(tags - {mine})
        if others:
            return Result(Status.UNCHANGED, f"kept: also tagged {', '.join(others)}")
        users = self.engine.image_users(image_id)
        if users:
            return Result(Status.UNCHANGED, f"kept: still used by container(s) {names_text(users)}")
        return self._remove(image_id, f"removed {short_id(image_id)}")

    def _remove(self, image: str, message: str) -> Result:
        try:
            self.engine.remove_image(image)
        except Conflict as exc:
            return Result(Status.UNCHANGED, f"kept: {exc}")
        return Result(message=message)
