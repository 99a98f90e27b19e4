"""build.builder, cache_from, secrets, ssh, network, extra_hosts, shm_size in spec v1."""

from __future__ import annotations

import textwrap

import pytest

from reconciler.errors import SpecError
from reconciler.load.loader import load_spec


def load(tmp_path, build: str):
    path = tmp_path / "spec.yaml"
    (tmp_path / "Dockerfile").write_text("FROM a:1\n")
    path.write_text(
        "version: 1\nproject: p\nimages:\n  app:\n    build:\n      context: .\n"
        + textwrap.indent(textwrap.dedent(build), "      ")
    )
    return load_spec(path)


def test_every_build_option_is_normalised(tmp_path):
    spec = load(
        tmp_path,
        """\
        builder: buildkit
        cache_from: [r/app:cache]
        secrets: {token: token.txt}
        ssh: [default]
        network: host
        extra_hosts: ["db:10.0.0.2"]
        shm_size: 64m
        """,
    )
    build = spec.images["app"].build
    assert build.builder == "buildkit" and build.cache_from == ("r/app:cache",)
    assert build.secrets == {"token": str(tmp_path / "token.txt")}
    assert build.ssh == ("default",) and build.network == "host"
    assert build.extra_hosts == ("db:10.0.0.2",) and build.shm_size == 64 << 20


def test_defaults(tmp_path):
    build = load(tmp_path, "args: {A: b}\n").images["app"].build
    assert build.builder == "auto" and not build.secrets and build.shm_size is None


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("builder: kit\n", "images.app.build.builder", "must be one of auto, classic, buildkit"),
        ("builder: classic\nsecrets: {a: f}\n", "images.app.build.secrets", "needs BuildKit"),
        ("builder: classic\nssh: [default]\n", "images.app.build.ssh", "needs BuildKit"),
        ("shm_size: lots\n", "images.app.build.shm_size", "invalid shm_size"),
        ("extra_hosts: [nohost]\n", "images.app.build.extra_hosts[0]", "extra host"),
    ],
)
def test_located_errors(tmp_path, text, path, words):
    with pytest.raises(SpecError) as info:
        load(tmp_path, text)
    (problem,) = info.value.problems
    assert problem.path == path and words in problem.message
    assert problem.location is not None and problem.location.line >= 7
