"""Which builder runs a build (execute/builder.py), without Docker."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from reconciler.buildctx.archive import Archive
from reconciler.errors import ImageError
from reconciler.execute.builder import choose
from reconciler.model.build import BuildSource
from reconciler.model.spec import BuildSpec


@dataclass
class Engine:
    cli: str | None
    api_version: str = "1.41"

    def buildkit_cli(self):
        return (self.cli, "" if self.cli else "no docker CLI that can use BuildKit: x")


def written(heredoc: int | None = None) -> Archive:
    return Archive(BuildSource(hash="h", heredoc_line=heredoc), "Dockerfile", {})


def build(**kw) -> BuildSpec:
    return BuildSpec(context="/ctx", **kw)


@pytest.mark.parametrize(
    ("spec", "cli", "buildkit", "note"),
    [
        (build(), "/usr/bin/docker", True, "with BuildKit"),
        (build(), None, False, "with the classic builder: BuildKit is not available"),
        (build(builder="classic"), "/usr/bin/docker", False, ""),
        (build(shm_size=1), "/usr/bin/docker", True, "shm_size is not applied"),
    ],
)
def test_choice(spec, cli, buildkit, note):
    choice = choose(spec, Engine(cli), written(), "r")
    assert choice.buildkit is buildkit and note in choice.note


@pytest.mark.parametrize(
    ("spec", "cli", "heredoc", "api", "words"),
    [
        (build(builder="buildkit"), None, None, "1.41", "`builder: buildkit` needs BuildKit"),
        (build(secrets={"a": "/f"}), None, None, "1.41", "build.secrets needs BuildKit"),
        (build(), None, 3, "1.41", "the heredoc at /ctx/Dockerfile:3 needs BuildKit"),
        (build(builder="classic"), "/d", 3, "1.41", "/ctx/Dockerfile:3: a heredoc"),
        (build(), "/d", 3, "1.41", "never fetches a frontend image"),
    ],
)
def test_refusals(spec, cli, heredoc, api, words):
    with pytest.raises(ImageError) as info:
        choose(spec, Engine(cli, api), written(heredoc), "r")
    assert words in str(info.value)


def test_heredoc_builds_with_buildkit_on_a_newer_engine():
    assert choose(build(), Engine("/d", "1.43"), written(3), "r").buildkit
