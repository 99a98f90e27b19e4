"""Property: whatever the input, load_spec returns a Spec or raises a SpecError whose problems
all have a location; never any other exception.

Inputs: random YAML-ish text, random documents, and valid examples mutated (keys dropped,
values replaced by other types, garbage keys inserted, lines dropped, characters changed).
More examples: RECONCILER_PROPERTY_EXAMPLES=5000 pytest tests/unit/test_spec_property.py
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import SpecError
from reconciler.load.loader import load_spec
from reconciler.load.schema import is_valid, schema, spec_check
from reconciler.model.spec import Spec

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FOLDER = Path(tempfile.mkdtemp(prefix="reconciler-prop-"))
(FOLDER / "ctx").mkdir()
(FOLDER / "ctx" / "Dockerfile").write_text("FROM scratch\n")
(FOLDER / "web.env").write_text("A=1\n")
ENVIRON = {"TAG": "1", "EMPTY": "", "PORT": "8080"}

FULL = {
    "version": 1,
    "project": "prop",
    "images": {
        "base": {"pull": "localhost:5000/stand-in/busybox:1", "policy": "if-missing"},
        "built": {"build": {"context": "ctx", "args": {"A": "1"}, "target": "t"}, "tag": "p/b:1"},
        "tools": {
            "commit": {
                "from": "base",
                "run": ["mkdir -p /x"],
                "changes": {"cmd": ["sh"], "env": {"M": "t"}, "expose": ["80"], "user": "1"},
            }
        },
    },
    "containers": {
        "web": {
            "image": "base",
            "command": ["httpd", "-f"],
            "entrypoint": "sh -c",
            "env": {"A": "b"},
            "env_file": "web.env",
            "ports": ["127.0.0.1:18081-18082:8080", {"container": 81, "host": "9000-9001"}],
            "volumes": ["data:/data", "./site:/www:ro", "/anon", {"target": "/t"}],
            "workdir": "/www",
            "user": "1000",
            "hostname": "web",
            "restart": "on-failure:3",
            "replicas": 2,
            "depends_on": {"db": "healthy"},
            "healthcheck": {"test": ["CMD", "true"], "interval": "5s", "retries": 3},
            "labels": {"tier": "front"},
            "state": "running",
            "exec": [["sh", "-c", "echo"], "echo hi"],
            "stop_timeout": "10s",
            "networks": {"backend": {"aliases": ["api"]}},
        },
        "db": {"image": "tools", "name": "prop-db", "command": "sleep 100000"},
    },
    "networks": {"backend": {"driver": "bridge", "subnet": "10.99.0.0/24"}},
    "volumes": {"data": {"driver": "local", "labels": {}}},
}


def documents() -> list[dict]:
    docs = [FULL]
    for path in sorted(EXAMPLES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if "services" not in doc:  # spec v1 only (compose.yaml is read under Compose's rules)
            docs.append(doc)
    return docs


def check(text: str) -> None:
    path = FOLDER / "spec.yaml"
    path.write_text(text)
    try:
        spec = load_spec(path, environ=ENVIRON)
    except SpecError as exc:
        assert exc.problems, "a SpecError without problems"
        for problem in exc.problems:
            assert problem.location is not None, problem
            assert problem.message
            problem.render()
            problem.to_json()
    else:
        assert isinstance(spec, Spec)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "8080",
            "127.0.0.1:80:80",
            "22:22",
            "5s",
            "${TAG}",
            "${MISSING}",
            "$$",
            "${",
            "base",
            "web",
            "db",
            "data:/data",
            "./x:/y:ro",
            "on-failure:2",
            "healthy",
            "CMD",
            "running",
            "absent",
            "Busybox",
            "localhost:5000/stand-in/busybox:1",
            "0755",
            "yes",
        ]
    ),
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "version",
            "project",
            "images",
            "containers",
            "networks",
            "volumes",
            "image",
            "ports",
            "env",
            "replicas",
            "depends_on",
            "build",
            "pull",
            "commit",
            "from",
            "name",
            "x-ext",
            "<<",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=30,
)


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


SETTINGS = settings(
    max_examples=int(os.environ.get("RECONCILER_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SETTINGS
@given(
    st.text(
        alphabet=st.sampled_from(list("abc:{}[]-&*!|>'\"#%@`,?$ \n\t0123456789.")), max_size=200
    )
)
def test_random_text(text):
    check(text)


@SETTINGS
@given(values)
def test_random_documents(data):
    check(dump(data))


@SETTINGS
@given(st.dictionaries(keys, values, max_size=6))
def test_random_documents_with_a_header(extra):
    check(dump({"version": 1, "project": "prop", **extra}))


def paths(node, prefix=()):
    """Every path into a document."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


def get_parent(doc, path):
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated(draw):
    doc = copy.deepcopy(draw(st.sampled_from(documents())))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        all_paths = [p for p in paths(doc) if p]
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent = get_parent(doc, path)
        action = draw(st.sampled_from(["drop", "replace", "insert", "duplicate", "wrap"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "insert" and isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
        elif action == "insert" and isinstance(parent, list):
            parent.insert(draw(st.integers(0, len(parent))), draw(values))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif action == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
    return doc


@SETTINGS
@given(mutated())
def test_mutated_examples(doc):
    check(dump(doc))


@SETTINGS
@given(mutated(), st.data())
def test_mutated_text(doc, data):
    """Mutations of the text itself: a line dropped or a character changed."""
    lines = dump(doc).splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1))
    if data.draw(st.booleans()):
        del lines[i]
    else:
        line = lines[i]
        j = data.draw(st.integers(0, max(len(line) - 1, 0)))
        char = data.draw(st.sampled_from(list(":{}[]-&*!|>'\"# \t$")))
        lines[i] = line[:j] + char + line[j + 1 :]
    check("".join(lines))


def test_the_full_document_is_valid():
    path = FOLDER / "spec.yaml"
    path.write_text(dump(FULL))
    load_spec(path, environ=ENVIRON)


# --- the fast schema check agrees with jsonschema ---------------------------------------


def jsonschema_verdict(data) -> bool:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema()).is_valid(data)


def test_fast_check_covers_the_whole_schema():
    assert spec_check() is not None, "load/schema.py lacks a keyword the schema uses"


@SETTINGS
@given(st.one_of(mutated(), values, st.dictionaries(keys, values, max_size=6)))
def test_fast_check_agrees_with_jsonschema(data):
    assert is_valid(data) == jsonschema_verdict(data)


@pytest.mark.parametrize("doc", documents(), ids=lambda d: d.get("project", "?"))
def test_fast_check_accepts_valid_documents(doc):
    assert is_valid(doc) is True and jsonschema_verdict(doc) is True


@pytest.mark.parametrize(
    "value, valid",
    [
        ({"version": True, "project": "p"}, False),  # JSON: true is not 1
        ({"version": 1.0, "project": "p"}, True),  # JSON: 1.0 == 1
        ({"version": 1, "project": "p", "containers": {"a": {"image": "x", "restart": 0}}}, False),
        (
            {"version": 1, "project": "p", "containers": {"a": {"image": "x", "replicas": 2.0}}},
            True,
        ),
        (
            {"version": 1, "project": "p", "containers": {"a": {"image": "x", "replicas": True}}},
            False,
        ),
        ({"version": 1, "project": "p", "x-anything": [1, {"a": None}]}, True),
    ],
)
def test_fast_check_json_semantics(value, valid):
    assert is_valid(value) is valid
    assert jsonschema_verdict(value) is valid
