"""Fixtures of the fault suite (issue 16): the integration fixtures (a real engine, the
stand-in images) and a unique `project` cleaned up after each test, its engine lease too (a
killed apply may leave `reconciler-lock-<project>`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.integration.conftest import _quiet, cleanup_project, docker_client, images  # noqa: F401


@pytest.fixture
def project(docker_client) -> Iterator[str]:  # noqa: F811
    name = f"f{uuid.uuid4().hex[:10]}"
    yield name
    cleanup_project(docker_client, name)
    for c in docker_client.containers.list(all=True, filters={"name": f"reconciler-lock-{name}"}):
        _quiet(c.remove, force=True)
