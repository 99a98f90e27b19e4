"""A Compose service's build options reach spec v1's images.*.build (compose/build_options.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.load.inputs import Inputs, load_inputs


def load(tmp_path: Path, build: str, secrets: str = ""):
    (tmp_path / "Dockerfile").write_text("FROM stand-in/busybox:latest\n")
    (tmp_path / "tok.txt").write_text("s3cret")
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  app:\n    build:\n      context: .\n"
        + textwrap.indent(textwrap.dedent(build), "      ")
        + "secrets:\n  tok:\n    file: ./tok.txt\n  env:\n    environment: HOME\n"
        + secrets
    )
    spec, _ = load_inputs(Inputs([compose], True, "p"), {"HOME": "/root"})
    return spec


def test_every_build_option_maps(tmp_path):
    spec = load(
        tmp_path,
        """\
        cache_from: [r/app:cache]
        secrets: [tok, {source: tok, target: other}]
        ssh: {default: null, key: /k}
        network: host
        extra_hosts: {db: 10.0.0.2}
        shm_size: 64m
        """,
    )
    build = spec.images["app"].build
    assert build.cache_from == ("r/app:cache",)
    assert build.secrets == {"tok": str(tmp_path / "tok.txt"), "other": str(tmp_path / "tok.txt")}
    assert build.ssh == ("default", "key=/k") and build.network == "host"
    assert build.extra_hosts == ("db:10.0.0.2",) and build.shm_size == 64 << 20


def test_list_forms(tmp_path):
    build = load(tmp_path, 'ssh: [default]\nextra_hosts: ["db=10.0.0.2"]\n').images["app"].build
    assert build.ssh == ("default",) and build.extra_hosts == ("db:10.0.0.2",)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("secrets: [nope]\n", "'nope' is not a top-level secret"),
        ("secrets: [env]\n", "a build secret is read from a file"),
        ("cache_to: [x]\n", "cache_to"),
    ],
)
def test_refusals_are_located(tmp_path, text, words):
    with pytest.raises(SpecError) as info:
        load(tmp_path, text)
    problem = next(p for p in info.value.problems if words in p.message)
    assert problem.location is not None and problem.location.line >= 4
