"""Variable interpolation (${VAR} and friends) and the .env file beside a spec."""

from __future__ import annotations

import pytest

from reconciler.errors import SpecError
from reconciler.load.interpolate import InterpolationError, substitute
from reconciler.load.loader import load_spec

ENV = {"A": "a", "EMPTY": "", "N": "3"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain", "plain"),
        ("${A}", "a"),
        ("$A", "a"),
        ("x-${A}-y", "x-a-y"),
        ("$A$A", "aa"),
        ("$$", "$"),
        ("$${A}", "${A}"),
        ("$$A", "$A"),
        ("cost: 5$", "cost: 5$"),
        ("$1", "$1"),
        ("${MISSING:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${MISSING-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${A:-dflt}", "a"),
        ("${MISSING:-}", ""),
        ("${MISSING:-${A}}", "a"),
        ("${MISSING:-${OTHER:-deep}}", "deep"),
        ("${MISSING:-a:b}", "a:b"),
        ("${A:?must be set}", "a"),
        ("${EMPTY?only unset is an error}", ""),
        ("${A:+set}", "set"),
        ("${EMPTY:+set}", ""),
        ("${EMPTY+set}", "set"),
        ("${MISSING+set}", ""),
        ("${N}", "3"),
    ],
)
def test_substitute(text, expected):
    assert substitute(text, ENV.get) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("${MISSING}", "variable MISSING is not set"),
        ("$MISSING", "variable MISSING is not set"),
        ("${MISSING:?tell me}", "variable MISSING is not set: tell me"),
        ("${EMPTY:?tell me}", "variable EMPTY is empty: tell me"),
        ("${MISSING?}", "variable MISSING is not set"),
        ("${}", "invalid interpolation ${}: expected a variable name"),
        ("${A", "unterminated ${ in '${A'"),
        ("${A B}", "invalid interpolation ${A B}: unknown operator after A"),
        ("${1A}", "invalid interpolation ${1A}: expected a variable name"),
    ],
)
def test_substitute_errors(text, message):
    with pytest.raises(InterpolationError) as info:
        substitute(text, ENV.get)
    assert info.value.message == message


SPEC = """\
version: 1
project: ${PROJECT:-shop}
containers:
  web:
    image: "busybox:${TAG}"
    replicas: ${REPLICAS:-2}
    env:
      FROM_DOTENV: ${DOTENV_ONLY}
      OVERRIDDEN: ${BOTH}
      LITERAL: "$${HOME}"
      NUMBER: ${PORT}
    ports: ["127.0.0.1:${PORT}-${PORT_END}:80"]
    labels: {"${NOT_A_KEY}": x}
volumes:
  data:
    external: ${EXT:-false}
"""


def write(tmp_path, dotenv: str | None = None):
    (tmp_path / "spec.yaml").write_text(SPEC)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return tmp_path / "spec.yaml"


def test_environment_and_dotenv(tmp_path):
    path = write(tmp_path, "TAG=1\nDOTENV_ONLY=from-dotenv\nBOTH=from-dotenv\nPORT_END=8001\n")
    spec = load_spec(path, environ={"BOTH": "from-env", "PORT": "8000"})
    web = spec.containers["web"]
    assert spec.project == "shop"
    assert web.image == "busybox:1"
    assert web.replicas == 2  # `${REPLICAS:-2}` unquoted is a number again
    assert web.env == {
        "FROM_DOTENV": "from-dotenv",
        "OVERRIDDEN": "from-env",  # the environment wins over .env
        "LITERAL": "${HOME}",
        "NUMBER": "8000",  # env values stay strings
    }
    assert web.ports[0].host_port == 8000 and web.ports[0].host_port_end == 8001
    assert web.labels == {"${NOT_A_KEY}": "x"}  # keys are not interpolated
    assert spec.volumes["data"].external is False


def test_typed_fields_from_variables(tmp_path):
    path = write(tmp_path, "TAG=1\nDOTENV_ONLY=x\nBOTH=x\nPORT=8000\nPORT_END=8002\n")
    spec = load_spec(path, environ={"REPLICAS": "3", "EXT": "true", "PROJECT": "p2"})
    assert spec.project == "p2"
    assert spec.containers["web"].replicas == 3
    assert spec.volumes["data"].external is True


def test_unset_variables_are_located_errors(tmp_path):
    path = write(tmp_path)
    with pytest.raises(SpecError) as info:
        load_spec(path, environ={})
    rendered = [p.render().replace(str(tmp_path) + "/", "") for p in info.value.problems]
    hint = "(set it, give a default with ${%s:-default}, or write $$ for a literal $)"
    assert rendered == [
        f"spec.yaml:5:12: containers.web.image: variable TAG is not set {hint % 'TAG'}",
        "spec.yaml:8:20: containers.web.env.FROM_DOTENV: variable DOTENV_ONLY is not set "
        + hint % "DOTENV_ONLY",
        f"spec.yaml:9:19: containers.web.env.OVERRIDDEN: variable BOTH is not set {hint % 'BOTH'}",
        f"spec.yaml:11:15: containers.web.env.NUMBER: variable PORT is not set {hint % 'PORT'}",
        f"spec.yaml:12:13: containers.web.ports[0]: variable PORT is not set {hint % 'PORT'}",
    ]


def test_bad_dotenv_line_is_located(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "TAG=1\n  oops\n")
    with pytest.raises(SpecError) as info:
        load_spec(
            "spec.yaml", environ={"DOTENV_ONLY": "", "BOTH": "", "PORT": "1", "PORT_END": "2"}
        )
    assert [p.render() for p in info.value.problems] == [".env:2:3: expected KEY=VALUE, not 'oops'"]


def test_os_environ_is_the_default(tmp_path, monkeypatch):
    write(tmp_path, "DOTENV_ONLY=x\nBOTH=x\nPORT=1\nPORT_END=2\n")
    monkeypatch.setenv("TAG", "from-os")
    assert load_spec(tmp_path / "spec.yaml").containers["web"].image == "busybox:from-os"
