"""buildcontext: .dockerignore semantics (Docker's patternmatcher), the files a build sends,
the source hash and manifest, FROM parsing and the archive written for the engine."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from reconciler.buildctx import context as buildctx_context
from reconciler.buildctx.archive import write_archive
from reconciler.buildctx.context import build_sources, context_files, source_hash
from reconciler.buildctx.dockerfile import with_label_instruction
from reconciler.buildctx.dockerignore import excluded_by, is_excluded, parse_dockerignore
from reconciler.buildctx.stages import dockerfile_bases
from reconciler.model.spec import BuildSpec

# (patterns, relpath, excluded?)
CASES = [
    # plain names and folders
    ("README.md", "README.md", True),
    ("README.md", "docs/README.md", False),
    ("docs", "docs/a/b.txt", True),
    ("docs/", "docs/a.txt", True),  # a trailing slash is cleaned away
    ("/docs", "docs/a.txt", True),  # leading slash: relative to the context
    ("./docs", "docs/a.txt", True),
    ("docs", "docsx/a.txt", False),
    # `*` and `?` stay within one path element
    ("*.md", "README.md", True),
    ("*.md", "docs/x.md", False),
    ("*/*.md", "docs/x.md", True),
    ("temp?", "temp1", True),
    ("temp?", "temp12", False),
    ("[a-c].txt", "b.txt", True),
    ("[a-c].txt", "d.txt", False),
    ("[^a-c].txt", "d.txt", True),
    # `**` crosses folders, zero or more
    ("**/*.md", "README.md", True),
    ("**/*.md", "a/b/c.md", True),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "a/x/y/c", False),
    ("a/**", "a/x/y", True),
    ("**", "anything/at/all", True),
    ("**/node_modules", "x/y/node_modules/z.js", True),
    # exceptions, last match wins
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README.md", "CHANGES.md", True),
    ("!README.md\n*.md", "README.md", True),
    ("docs\n!docs/keep.txt", "docs/keep.txt", False),
    ("docs\n!docs/keep.txt", "docs/other.txt", True),
    # an excluded folder is entered only when an exception names something in it
    ("node_modules\n!**/keep.js", "node_modules/keep.js", True),
    ("node_modules\n!node_modules/keep.js", "node_modules/keep.js", False),
    # comments, blank lines, escapes, regex characters taken literally
    ("# a comment\n\n  *.log  ", "x.log", True),
    ("# *.log", "x.log", False),
    ("\\#file", "#file", True),
    ("a+b(1).txt", "a+b(1).txt", True),
    ("a.b", "axb", False),
    # the Dockerfile and .dockerignore are always sent
    ("*", "Dockerfile", False),
    ("*", ".dockerignore", False),
    ("Dockerfile\n.dockerignore", "Dockerfile", False),
    ("*", "src/app.py", True),
]


@pytest.mark.parametrize(("patterns", "relpath", "excluded"), CASES)
def test_dockerignore_semantics(patterns, relpath, excluded):
    rules = parse_dockerignore(patterns)
    assert excluded_by(rules, relpath) is excluded


def test_custom_dockerfile_is_always_sent_even_from_an_excluded_folder(tmp_path):
    rules = parse_dockerignore("docker\n")
    assert excluded_by(rules, "docker/app.Dockerfile", "docker/app.Dockerfile") is False
    assert excluded_by(rules, "docker/other", "docker/app.Dockerfile") is True
    assert excluded_by(rules, "docker/app.Dockerfile") is True  # default name: not special


def test_lone_exclamation_mark_is_an_error():
    with pytest.raises(ValueError, match="line 2"):
        parse_dockerignore("a\n!\n")


def test_paths_outside_the_context_are_excluded():
    assert excluded_by((), "../elsewhere") is True
    assert excluded_by((), "a/../b") is False


def make_context(root: Path, files: dict[str, str], ignore: str | None = None) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if ignore is not None:
        (root / ".dockerignore").write_text(ignore)
    return root


FILES = {
    "Dockerfile": "FROM stand-in/busybox:latest\nCOPY . /app\n",
    "site/index.html": "<p>hi</p>\n",
    "site/app.js": "1\n",
    "notes/todo.txt": "later\n",
    "README.md": "readme\n",
    "node_modules/dep/index.js": "x\n",
}


def test_context_files_and_is_excluded_agree(tmp_path):
    ctx = make_context(tmp_path, FILES, "notes/\n*.md\nnode_modules\n!node_modules/dep\n")
    (ctx / "site" / "link").symlink_to("index.html")
    files = context_files(str(ctx))
    names = [rel for rel, _, _ in files]
    assert names == sorted(names)
    assert set(names) == {
        ".dockerignore",
        "Dockerfile",
        "node_modules/dep/index.js",
        "site/app.js",
        "site/index.html",
        "site/link",
    }
    every = [str(p.relative_to(ctx)) for p in ctx.rglob("*") if p.is_file() or p.is_symlink()]
    for rel in every:
        assert is_excluded(str(ctx), rel) is (rel not in names), rel
    by_name = {rel: (mode, digest) for rel, mode, digest in files}
    assert by_name["site/index.html"][1] == hashlib.sha256(b"<p>hi</p>\n").hexdigest()
    assert stat.S_ISLNK(by_name["site/link"][0])
    assert by_name["site/link"][1] == hashlib.sha256(b"index.html").hexdigest()


def build_of(ctx: Path, **kw) -> BuildSpec:
    return BuildSpec(context=str(ctx), **kw)


def test_source_hash_changes_only_with_what_defines_the_image(tmp_path):
    ctx = make_context(tmp_path, FILES, "notes/\n")
    h0, manifest = source_hash(build_of(ctx))
    assert "site/index.html" in manifest and "notes/todo.txt" not in manifest
    assert source_hash(build_of(ctx))[0] == h0  # stable

    (ctx / "notes" / "todo.txt").write_text("edited\n")  # excluded
    assert source_hash(build_of(ctx))[0] == h0
    os.utime(ctx / "site" / "index.html", ns=(1, 1))  # mtime alone is not content
    assert source_hash(build_of(ctx))[0] == h0

    (ctx / "site" / "index.html").write_text("<p>changed</p>\n")
    h1, m1 = source_hash(build_of(ctx))
    assert h1 != h0
    assert [p for p in manifest if manifest[p] != m1.get(p)] == ["site/index.html"]

    (ctx / "site" / "app.js").chmod(0o755)  # the mode counts
    h2, _ = source_hash(build_of(ctx))
    assert h2 != h1
    assert source_hash(build_of(ctx, args={"A": "1"}))[0] != h2
    assert source_hash(build_of(ctx, target="final"))[0] != h2
    assert source_hash(build_of(ctx, labels={"x": "y"}))[0] != h2
    (ctx / "new.txt").write_text("new\n")
    assert source_hash(build_of(ctx))[0] != h2


def test_digests_are_cached_by_stat(tmp_path, monkeypatch):
    ctx = make_context(tmp_path / "c", FILES)
    context_files(str(ctx))
    opened: list[str] = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(buildctx_context, "open", counting_open, raising=False)
    context_files(str(ctx))
    assert opened == []  # nothing changed: stat only
    (ctx / "site" / "app.js").write_text("22\n")
    context_files(str(ctx))
    assert opened == [str(ctx / "site" / "app.js")]


def test_build_sources_reports_unreadable_contexts(tmp_path):
    from reconciler.model.spec import ImageSpec, Spec

    ctx = make_context(tmp_path / "ok", FILES)
    bad = make_context(tmp_path / "bad", FILES, "a\n!\n")
    spec = Spec(
        project="p",
        path=str(tmp_path / "spec.yaml"),
        images={
            "ok": ImageSpec("ok", "build", "p/ok:latest", build=build_of(ctx)),
            "bad": ImageSpec("bad", "build", "p/bad:latest", build=build_of(bad)),
            "gone": ImageSpec("gone", "build", "p/gone:latest", build=build_of(tmp_path / "x")),
        },
    )
    sources = build_sources(spec)
    assert sources["ok"].error is None and sources["ok"].bases == ("stand-in/busybox:latest",)
    assert "lone `!`" in sources["bad"].error
    assert "cannot read the build context" in sources["gone"].error


DOCKERFILE_BASES = [
    ("FROM a:1\nRUN x\n", ("a:1",)),
    ("from a:1 AS build\nFROM build\nFROM scratch\n", ()),  # the last stage needs no other
    ("from a:1 AS build\nFROM build\n", ("a:1",)),
    (
        "FROM --platform=linux/amd64 a:1 as b\nCOPY --from=b /x /y\nCOPY --from=c:2 /x /y\n",
        ("a:1", "c:2"),
    ),
    ("ARG BASE=a:1\nFROM $BASE\n", ("a:1",)),
    ("ARG BASE=a:1\nFROM ${BASE}\n", ("b:2",)),  # the build arg wins
    ("ARG TAG\nFROM a:${TAG:-3}\n", ("a:3",)),
    ("# comment\nFROM \\\n  a:1\n", ("a:1",)),
    ("FROM a:1 AS one\nFROM b:1\nCOPY --from=0 /x /y\nCOPY --from=one /x /y\n", ("a:1", "b:1")),
]


@pytest.mark.parametrize(("text", "bases"), DOCKERFILE_BASES)
def test_dockerfile_bases(text, bases):
    args = {"BASE": "b:2"} if "${BASE}" in text else {}
    assert dockerfile_bases(text, args) == bases


def test_label_instruction_is_quoted_and_never_substituted():
    text = with_label_instruction(b"FROM a:1", {"k": 'say "$HOME" \\ ok', "a.b": "1"})
    last = text.decode().splitlines()[-1]
    assert last == 'LABEL "a.b"="1" "k"="say \\"\\$HOME\\" \\\\ ok"'
    backtick = with_label_instruction(b"# escape=`\nFROM a:1\n", {"k": 'x"$'})
    assert backtick.decode().splitlines()[-1] == 'LABEL "k"="x`"`$"'


def test_archive_holds_exactly_the_kept_files_and_hides_the_generated_dockerfile(tmp_path):
    ctx = make_context(tmp_path, FILES, "notes/\n")
    out = io.BytesIO()
    written = write_archive(build_of(ctx), out, lambda source: {"h": source.hash})
    assert written.source.hash == source_hash(build_of(ctx))[0]
    assert written.api_labels == {}
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = {m.name: m for m in tar.getmembers()}
        ignore = tar.extractfile(".dockerignore").read().decode()
        generated = tar.extractfile(written.dockerfile).read().decode()
    kept = {rel for rel, _, _ in context_files(str(ctx))}
    files = {n for n, m in members.items() if m.isfile()}
    assert files == kept | {written.dockerfile}
    assert written.dockerfile.startswith(".reconciler-dockerfile-")
    assert ignore == f"notes/\n{written.dockerfile}\n"  # the engine drops it after reading
    assert generated.startswith(FILES["Dockerfile"])
    assert generated.rstrip().endswith(f'LABEL "h"="{written.source.hash}"')


def test_archive_without_dockerignore_hides_its_own(tmp_path):
    ctx = make_context(tmp_path, {"Dockerfile": "FROM a:1\n"})
    out = io.BytesIO()
    written = write_archive(build_of(ctx), out, lambda source: {"h": "1"})
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        ignore = tar.extractfile(".dockerignore").read().decode()
    assert ignore == f".dockerignore\n{written.dockerfile}\n"


def test_archive_with_a_target_leaves_labels_to_the_api(tmp_path):
    ctx = make_context(tmp_path, {"Dockerfile": "FROM a:1 AS one\nFROM a:1\n"})
    written = write_archive(build_of(ctx, target="one"), io.BytesIO(), lambda s: {"h": "1"})
    assert written.dockerfile == "Dockerfile"
    assert written.api_labels == {"h": "1"}
