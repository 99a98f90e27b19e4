"""`Normalizer`: a whole spec document -> a Spec (model/spec.py) and the problems found.

Called by load/loader.py after the schema step; runs the sections in order (images,
containers, networks, volumes) with one shared problem list. Sections of the wrong type
(`skip`, already reported) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import Problem
from reconciler.load.normalize.containers import Containers
from reconciler.load.normalize.crossrefs import link_containers
from reconciler.load.normalize.fields import Fields
from reconciler.load.normalize.filesources import FileSources
from reconciler.load.normalize.images import Images
from reconciler.load.normalize.resources import Resources
from reconciler.load.normalize.scalars import PROJECT_RE
from reconciler.load.source import Document, PathT
from reconciler.model import spec as S


class Normalizer(Fields):
    """`Normalizer(doc, data, environ, skip).spec(project)`; then `problems` and `port_paths`."""

    def __init__(
        self,
        doc: Document,
        data: Mapping[str, Any],
        environ: Mapping[str, str],
        skip: set[PathT] | None = None,
    ):
        super().__init__(doc, environ, [])
        self.data = data
        self.skip = skip or set()  # sections of the wrong type: not normalised
        self.project = ""
        self.port_paths: dict[str, list[PathT]] = {}  # container key -> path of each port

    def section(self, data: Mapping[str, Any], name: str) -> list[tuple[str, Any]]:
        if (name,) in self.skip:
            return []
        return list(self.mapping(data.get(name), (name,)).items())

    def spec(self, project_override: str | None, target_override: str | None = None) -> S.Spec:
        data = self.data
        project = data.get("project")
        if project_override is not None:
            project = project_override
            if not PROJECT_RE.match(project):
                self.problems.append(
                    Problem(
                        f"invalid project name {project!r} (from --project): use lowercase "
                        "letters, digits, - and _, starting with a letter or digit",
                        None,
                        "project",
                    )
                )
        elif (
            isinstance(project, str)
            and not PROJECT_RE.match(project)
            and ("project",) not in self.skip
        ):
            self.err(
                ("project",),
                f"invalid project name {project!r}: use lowercase letters, digits, - and _, "
                "starting with a letter or digit",
            )
        self.project = project if isinstance(project, str) else ""

        args = (self.doc, self.environ, self.problems)
        image_normalizer = Images(*args, self.project)
        images = {}
        for key, value in self.section(data, "images"):
            image = image_normalizer.image(key, value)
            if image is not None:
                images[key] = image
        container_normalizer = Containers(*args)
        self.port_paths = container_normalizer.port_paths
        containers = {}
        for key, value in self.section(data, "containers"):
            container = container_normalizer.container(key, value)
            if container is not None:
                containers[key] = container
        resources = Resources(*args, self.project)
        networks = {}
        for key, value in self.section(data, "networks"):
            networks[key] = resources.network(key, value)
        volumes = {}
        for key, value in self.section(data, "volumes"):
            volumes[key] = resources.volume(key, value)
        sources = FileSources(*args, self.project)
        files: dict[str, dict] = {"secrets": {}, "configs": {}}
        for section, kind in (("secrets", "secret"), ("configs", "config")):
            for key, value in self.section(data, section):
                source = sources.source(kind, key, value)
                if source is not None:
                    files[section][key] = source
        declared = {s: {k for k, _ in self.section(data, s)} for s in files}
        containers = link_containers(
            containers, files["secrets"], files["configs"], self.err, declared
        )
        version = data.get("version", 1)
        target = data.get("target") if target_override is None else target_override
        registry = data.get("registry")
        return S.Spec(
            project=self.project,
            path=str(self.doc.path),
            version=version if isinstance(version, int) else 1,
            images=images,
            containers=containers,
            networks=networks,
            volumes=volumes,
            secrets=files["secrets"],
            configs=files["configs"],
            target=target if target in ("engine", "swarm") else "engine",
            registry=registry if isinstance(registry, str) else None,
        )
