"""Image operations of the Docker adapter: pull, resolve, inspect, remove, list users, build
(classic builder) and commit (with its work container).

`ImageOps` is composed into `engine.Engine` (adapter.py); callers (execute/images.py,
execute/scheduler.py) reach it through `EnginePort` (ImagesPort). Errors hidden in a pull or
build stream raise ImageError; a failing build names its step and the tail of its output
(streams.BuildLog).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import IO, Any

from reconciler.engine.client import EngineClient
from reconciler.engine.port import ProgressFn
from reconciler.engine.streams import BuildLog
from reconciler.engine.translate import (
    commit_config,
    container_name,
    helper_container_body,
    image_info,
    stream_error,
)
from reconciler.errors import EngineError, EngineUnavailable, ImageError, NotFound
from reconciler.model.spec import BuildSpec, CommitChanges


class ImageOps(EngineClient):
    """Operations on images."""

    def pull(self, reference: str, progress: ProgressFn | None = None) -> str:
        """Pull and return the image id; errors hidden in the stream raise ImageError."""
        from docker.utils import parse_repository_tag

        repository, tag = parse_repository_tag(reference)
        if not tag:
            tag = "latest"
        action = f"cannot pull {reference}"
        try:
            with self._translate(action):
                stream = self._api.pull(repository, tag=tag, stream=True, decode=True)
                for event in stream:
                    if not isinstance(event, dict):
                        continue
                    cause = stream_error(event)
                    if cause is not None:
                        raise ImageError(f"{action}: {_pull_cause(cause)}")
                    if progress is not None:
                        progress(event)
        except ImageError:
            raise
        except EngineUnavailable:
            raise
        except EngineError as exc:
            cause = str(exc).removeprefix(f"{action}: ")
            raise ImageError(f"{action}: {_pull_cause(cause)}") from exc
        image = self.image_id(reference)
        if image is None:
            raise ImageError(f"{action}: the engine reported no error but has no such image")
        return image

    def registry_digest(self, reference: str) -> str:
        """The digest the registry has for `reference` now (distribution inspect: one
        manifest request, nothing pulled). EngineError when the registry cannot be asked."""
        with self._translate(f"cannot ask the registry about {reference}"):
            raw = self._api.inspect_distribution(reference)
        return str((raw.get("Descriptor") or {}).get("digest") or "")

    def image_id(self, reference: str) -> str | None:
        try:
            with self._translate(f"cannot inspect image {reference}"):
                return self._api.inspect_image(reference)["Id"]
        except NotFound:
            return None

    def remove_image(self, image: str, force: bool = False) -> None:
        """Remove one image (reference: untag; id: delete). Gone is fine; in use -> Conflict."""
        action = f"cannot remove image {image}"
        with contextlib.suppress(NotFound), self._translate(action):
            self._api.remove_image(image, force=force, noprune=False)

    def inspect_image(self, reference: str) -> dict[str, Any] | None:
        """{'id', 'tags', 'labels', 'cmd', 'entrypoint', 'env', 'workdir', 'user',
        'exposed_ports', 'parent'} of an image (reference or id); None when absent."""
        try:
            with self._translate(f"cannot inspect image {reference}"):
                raw = self._api.inspect_image(reference)
        except NotFound:
            return None
        return image_info(raw)

    def image_users(self, image_id: str) -> list[str]:
        """Names of every container (any owner, running or not) created from exactly this
        image: one filtered list call."""
        with self._translate(f"cannot list the containers of image {image_id}"):
            raw = self._api.containers(all=True, filters={"ancestor": image_id})
        return sorted(container_name(r) for r in raw if r.get("ImageID") == image_id)

    def build(
        self,
        context: IO[bytes],
        tag: str,
        *,
        dockerfile: str = "Dockerfile",
        buildargs: Mapping[str, str] | None = None,
        target: str | None = None,
        labels: Mapping[str, str] | None = None,
        progress: ProgressFn | None = None,
        no_cache: bool = False,
        options: BuildSpec | None = None,
    ) -> str:
        """Build `tag` from an uncompressed tar of the context (a file object) with the
        engine's classic builder; returns the image id. Never pulls (pull=False: the caller
        makes sure every FROM image is present). Each decoded stream event goes to `progress`.
        A failing step raises ImageError naming the step and the tail of its output."""
        action = f"cannot build {tag}"
        state = BuildLog()
        image_id: str | None = None
        try:
            with self._translate(action):
                stream = self._api.build(
                    fileobj=context,
                    custom_context=True,
                    tag=tag,
                    dockerfile=dockerfile,
                    buildargs=dict(buildargs or {}),
                    target=target or None,
                    labels=dict(labels or {}),
                    rm=True,
                    forcerm=True,
                    pull=False,
                    nocache=no_cache,
                    decode=True,
                    use_config_proxy=False,
                    **_classic_options(options),
                )
                for event in stream:
                    if not isinstance(event, dict):
                        continue
                    cause = stream_error(event)
                    if cause is not None:
                        raise ImageError(state.failure(action, cause))
                    text = event.get("stream")
                    if isinstance(text, str):
                        state.feed(text)
                    aux = event.get("aux")
                    if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
                        image_id = aux["ID"]
                    if progress is not None:
                        progress(event)
        except (ImageError, EngineUnavailable):
            raise
        except EngineError as exc:
            cause = str(exc).removeprefix(f"{action}: ")
            raise ImageError(state.failure(action, cause)) from exc
        image_id = image_id or self.image_id(tag)
        if image_id is None:
            raise ImageError(f"{action}: the engine reported no error but has no such image")
        return image_id

    def create_helper_container(self, image: str, name: str, entrypoint: list[str]) -> str:
        """Create (not start) a bare container of `image` running `entrypoint` with an empty
        CMD and no labels (a commit recipe's work container: nothing of it may leak into the
        committed image's config). Name in use -> Conflict; image missing -> NotFound."""
        body = helper_container_body(image, entrypoint)
        action = f"cannot create container {name}"
        with self._translate(
            action,
            conflict=lambda e: f"{action}: the name {name} is already in use ({e})",
            not_found=lambda e: f"{action}: image {image} not found ({e})",
        ):
            return self._api.create_container_from_config(body, name=name)["Id"]

    def commit(
        self,
        container_id: str,
        reference: str,
        *,
        base: Mapping[str, Any],
        changes: CommitChanges,
        labels: Mapping[str, str],
    ) -> str:
        """Commit a container as `reference`. The image config is the base image's (`base`,
        an `inspect_image` result) with the recipe's `changes` and `labels` applied
        (translate.commit_config). Returns the new image id."""
        from docker.utils import parse_repository_tag

        conf = commit_config(base, changes, labels)
        repository, tag = parse_repository_tag(reference)
        with self._translate(f"cannot commit {reference}"):
            result = self._api.commit(
                container_id, repository=repository, tag=tag or "latest", conf=conf
            )
        return str(result["Id"])


def _classic_options(build: BuildSpec | None) -> dict[str, Any]:
    """The build options the classic builder takes (secrets and ssh need BuildKit)."""
    if build is None:
        return {}
    out: dict[str, Any] = {}
    if build.cache_from:
        out["cache_from"] = list(build.cache_from)
    if build.network:
        out["network_mode"] = build.network
    if build.extra_hosts:
        out["extra_hosts"] = dict(h.split(":", 1) for h in build.extra_hosts)
    if build.shm_size is not None:
        out["shmsize"] = build.shm_size
    return out


def _pull_cause(cause: str) -> str:
    """Name the cause in words a user knows, keeping the engine's text."""
    lower = cause.lower()
    if "manifest unknown" in lower or ("manifest for" in lower and "not found" in lower):
        return f"no such image or tag in the registry ({cause})"
    if "repository does not exist" in lower or "name unknown" in lower:
        return f"no such repository in the registry ({cause})"
    if "unauthorized" in lower or "authentication required" in lower or "denied" in lower:
        return f"access denied: log in to the registry or check the name ({cause})"
    if (
        "connection refused" in lower
        or "no such host" in lower
        or "i/o timeout" in lower
        or "dial tcp" in lower
    ):
        return f"cannot reach the registry ({cause})"
    return cause
