"""Fixtures for tests against a real Docker engine (set up by scripts/engine-setup.sh).

- `docker_client`: a docker SDK client (tests may use the SDK directly to check the engine).
- `project`: a unique project name; everything labelled with it is removed after the test,
  pass or fail. Tests create only things labelled with their project or named after it.
- `images`: the seeded stand-in references.
With RECONCILER_REQUIRE_ENGINE=1 (make test, CI) a missing engine fails the run instead of
skipping it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

LABEL_PROJECT = "io.reconciler.project"
REGISTRY = os.environ.get("RECONCILER_TEST_REGISTRY", "localhost:5000")


@dataclass(frozen=True)
class SeededImages:
    base: str = "stand-in/busybox:latest"  # imported locally, never pushed
    base2: str = "stand-in/busybox:2"  # imported locally, different content
    registry: str = REGISTRY
    v1: str = f"{REGISTRY}/stand-in/busybox:1"  # on the loopback registry
    v2: str = f"{REGISTRY}/stand-in/busybox:2"


@pytest.fixture(scope="session")
def docker_client():
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # any failure to reach the engine
        message = f"no Docker engine reachable ({exc}); run scripts/engine-setup.sh"
        if os.environ.get("RECONCILER_REQUIRE_ENGINE") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture(scope="session")
def images(docker_client) -> SeededImages:
    seeded = SeededImages()
    for ref in (seeded.base, seeded.base2):
        try:
            docker_client.images.get(ref)
        except Exception:
            pytest.fail(f"seeded image {ref} missing; run scripts/engine-setup.sh", pytrace=False)
    return seeded


def cleanup_project(client, project: str) -> None:
    """Remove every container, image, network and volume labelled with `project`, or whose
    name starts with it (renamed-aside containers included)."""
    label = f"{LABEL_PROJECT}={project}"
    if (client.info().get("Swarm") or {}).get("ControlAvailable"):  # target swarm services
        for service in client.services.list(filters={"label": label}):
            _quiet(service.remove)
    for c in client.containers.list(all=True, filters={"label": label}):
        _quiet(c.remove, force=True, v=True)
    for c in client.containers.list(all=True, filters={"name": f"^/?{project}"}):
        _quiet(c.remove, force=True, v=True)
    # the project's engine lease (reconciler/lock.py), left by a killed apply
    for c in client.containers.list(all=True, filters={"name": f"^/?reconciler-lock-{project}$"}):
        _quiet(c.remove, force=True)
    for img in client.images.list(filters={"label": label}):
        _quiet(client.images.remove, img.id, force=True)
    for img in client.images.list():
        for tag in img.tags:
            if tag.startswith(f"{project}/") or f"/{project}/" in tag:
                _quiet(client.images.remove, tag, force=True)
    for n in client.networks.list(filters={"label": label}):
        _quiet(n.remove)
    for v in client.volumes.list(filters={"label": label}):
        _quiet(v.remove, force=True)


def _quiet(fn, *args, **kwargs) -> None:
    """Clean-up is best effort: an object already gone must not fail the test run."""
    with contextlib.suppress(Exception):
        fn(*args, **kwargs)


@pytest.fixture
def project(docker_client, request) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    cleanup_project(docker_client, name)
