"""Swarm fixtures: the local engine made a Swarm manager (scripts/swarm-setup.sh manager,
idempotent) and the services of a test project removed after it."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.model.labels import LABEL_PROJECT
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[3]
TASK_LABEL = "com.docker.swarm.service.name"


@pytest.fixture(scope="session")
def swarm_manager(docker_client) -> str:
    """The engine's node id, after making it a manager if it is not one."""
    info = docker_client.info().get("Swarm") or {}
    if not info.get("ControlAvailable"):
        proc = subprocess.run(
            ["bash", str(ROOT / "scripts/swarm-setup.sh"), "manager"],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot make the engine a Swarm manager: {proc.stderr.strip()}")
        info = docker_client.info().get("Swarm") or {}
    return str(info["NodeID"])


def remove_services(client, project: str) -> None:
    for service in client.services.list(filters={"label": f"{LABEL_PROJECT}={project}"}):
        with contextlib.suppress(Exception):
            service.remove()


@pytest.fixture
def swarm_project(project, docker_client, swarm_manager) -> Iterator[str]:
    """A unique project on the Swarm; its services go first, then the `project` clean-up."""
    yield project
    remove_services(docker_client, project)

    def tasks_gone() -> bool:
        found = docker_client.api.containers(all=True, filters={"label": TASK_LABEL})
        return not [c for c in found if (c.get("Labels") or {}).get(LABEL_PROJECT) == project]

    wait_for(tasks_gone, 90, "the project's task containers to go")
