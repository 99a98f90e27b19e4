"""The test harness itself works: the engine runs the stand-in images, publishes ports on
loopback, and the loopback registry serves pulls."""

from __future__ import annotations

import time
import urllib.request

from tests.integration.conftest import LABEL_PROJECT


def fetch(url: str, deadline_s: float = 10.0) -> str:
    """GET a URL, retrying until a deadline (the server may still be starting)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_httpd_in_stand_in_image_serves_on_loopback(docker_client, images, project):
    container = docker_client.containers.run(
        images.base,
        ["httpd", "-f", "-p", "8080", "-h", "/www"],
        detach=True,
        name=f"{project}-httpd",
        labels={LABEL_PROJECT: project},
        ports={"8080/tcp": ("127.0.0.1", None)},
    )
    container.reload()
    host_port = container.ports["8080/tcp"][0]["HostPort"]
    assert "stand-in 1" in fetch(f"http://127.0.0.1:{host_port}/")


def test_pull_from_loopback_registry_gives_distinct_tags(docker_client, images):
    first = docker_client.images.pull(images.v1)
    second = docker_client.images.pull(images.v2)
    assert first.id != second.id
    assert images.v1 in first.tags
