"""Every spec in examples/ is valid, and only uses images from the loopback registry or local
stand-ins (nothing from a remote registry)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.load.inputs import Inputs, load_inputs
from reconciler.load.loader import load_spec

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
ALLOWED_IMAGES = {
    "localhost:5000/stand-in/busybox:1",
    "localhost:5000/stand-in/busybox:2",
    "stand-in/busybox:latest",
}


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_there_are_examples():
    names = {p.name for p in example_files()}
    assert {"quickstart.yaml", "multi.yaml"} <= names


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_example_is_valid(path):
    spec, _ = load_inputs(Inputs([str(path)], True), {})  # spec v1 or Compose
    for image in spec.images.values():
        if image.kind == "pull":
            assert image.reference in ALLOWED_IMAGES, image.reference
        if image.commit is not None and image.commit.base not in spec.images:
            assert image.commit.base in ALLOWED_IMAGES
    for container in spec.containers.values():
        if container.image not in spec.images:
            assert container.image in ALLOWED_IMAGES, container.image


def test_quickstart_content():
    spec = load_spec(EXAMPLES / "quickstart.yaml", environ={})
    assert spec.project == "quickstart"
    assert spec.images["base"].reference == "localhost:5000/stand-in/busybox:1"
    web = spec.containers["web"]
    assert web.image == "base"
    assert web.command == ("httpd", "-f", "-p", "8080", "-h", "/www")
    assert [(p.host_ip, p.host_port, p.container_port) for p in web.ports] == [
        ("127.0.0.1", 18080, 8080)
    ]


def test_multi_content():
    spec = load_spec(EXAMPLES / "multi.yaml", environ={})
    web = spec.containers["web"]
    assert web.replicas == 2
    assert [web.ports[0].host_port_for(r) for r in (1, 2)] == [18081, 18082]
    assert web.depends_on[0].target in spec.containers
    assert spec.containers[web.depends_on[0].target].command == ("sleep", "100000")
