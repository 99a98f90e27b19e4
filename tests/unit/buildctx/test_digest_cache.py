"""buildctx/digestcache.py: build-context digests kept between runs in
$XDG_CACHE_HOME/reconciler (one file per context), reused only when the path and the whole
stat key (size, mtime_ns, inode, ctime_ns) match: one test per key component, content
changed behind a restored mtime, deleted files dropping out, a broken cache file,
RECONCILER_NO_CACHE, and build_sources reusing the stored digests on the next run."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from reconciler.buildctx import context as ctx
from reconciler.buildctx import digestcache
from reconciler.buildctx.context import build_sources, file_digest
from reconciler.model.spec import BuildSpec, ImageSpec, Spec
from tests.polling import wait_for


@pytest.fixture(autouse=True)
def fresh_table(monkeypatch) -> None:
    monkeypatch.setattr(ctx, "_DIGESTS", {})
    monkeypatch.setattr(digestcache, "RACY_NS", 0)  # store files written just now


def past_the_tick(path: Path) -> None:
    """Wait (polling the clock) until a write would get a later timestamp than path's ctime."""
    ctime = os.stat(path).st_ctime_ns
    wait_for(lambda: time.time_ns() > ctime + 50_000_000, what="the clock to move on")


@pytest.fixture
def app(tmp_path) -> Path:
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM stand-in/busybox:latest\nCOPY . /\n")
    (context / "a.txt").write_text("one")
    return context


def spec_of(context: Path) -> Spec:
    return Spec(
        project="p",
        path=str(context.parent / "spec.yaml"),
        images={"app": ImageSpec("app", "build", "p/app:latest", build=BuildSpec(str(context)))},
    )


def next_run(context: Path) -> str:
    """What the next process sees: an empty table; returns the hash build_sources computes."""
    ctx._DIGESTS.clear()
    source = build_sources(spec_of(context))["app"]
    assert source.error is None
    return source.hash


def poison_stored(context: Path, name: str) -> None:
    """Keep the stored stat key of context/name but make its digest wrong: reusing it shows
    as a different source hash."""
    stored = digestcache.load(str(context))
    path = str(context / name)
    key, _ = stored[path]
    stored[path] = (key, hashlib.sha256(b"something else").hexdigest())
    digestcache.save(str(context), stored)


def test_next_run_reuses_the_stored_digests(app):
    first = next_run(app)
    assert str(app / "a.txt") in digestcache.load(str(app))
    poison_stored(app, "a.txt")
    assert next_run(app) != first  # the stored (poisoned) digest was used: no re-read


@pytest.mark.parametrize("component", ["size", "mtime_ns", "inode", "ctime_ns"])
def test_each_stat_key_component_invalidates(app, component):
    first = next_run(app)
    poison_stored(app, "a.txt")
    f = app / "a.txt"
    st = os.stat(f)
    if component == "size":
        f.write_text("one!")
        expected_changed = True
    elif component == "mtime_ns":
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        expected_changed = False
    elif component == "inode":
        replacement = app.parent / "b.txt"
        replacement.write_text("one")  # same content and size, another inode, renamed over
        os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(replacement, f)
        expected_changed = False
    else:  # only ctime: a chmod back and forth changes nothing else in the key
        past_the_tick(f)
        os.chmod(f, 0o600)
        os.chmod(f, st.st_mode & 0o777)
        expected_changed = False
    # Re-read (not the poisoned digest): the hash is the real one for the content.
    assert (next_run(app) != first) is expected_changed


def test_content_changed_behind_a_restored_mtime_is_seen(app):
    first = next_run(app)
    f = app / "a.txt"
    st = os.stat(f)
    past_the_tick(f)
    f.write_text("two")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime restored; ctime cannot be
    assert next_run(app) != first
    assert digestcache.load(str(app))[str(f)][1] == hashlib.sha256(b"two").hexdigest()


def test_another_context_has_its_own_file(app, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "Dockerfile").write_text("FROM stand-in/busybox:latest\n")
    next_run(app)
    next_run(other)
    assert digestcache.cache_file(str(app)) != digestcache.cache_file(str(other))
    assert set(digestcache.load(str(other))) == {str(other / "Dockerfile")}


def test_deleted_files_drop_out(app):
    next_run(app)
    (app / "a.txt").unlink()
    next_run(app)
    assert set(digestcache.load(str(app))) == {str(app / "Dockerfile")}


def test_a_file_for_another_path_is_refused(app):
    next_run(app)
    path = digestcache.cache_file(str(app))
    data = json.loads(Path(path).read_text())
    data["context"] = "/elsewhere"
    Path(path).write_text(json.dumps(data))
    assert digestcache.load(str(app)) == {}


def test_broken_cache_file_is_ignored(app):
    path = Path(digestcache.cache_file(str(app)))
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    first = next_run(app)  # no error
    path.write_text(json.dumps({"version": 1, "context": str(app), "digests": {"/x": [1]}}))
    assert digestcache.load(str(app)) == {}
    assert next_run(app) == first


def test_no_cache_variable_turns_it_off(app, monkeypatch):
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    next_run(app)
    assert digestcache.cache_file(str(app)) is None
    assert digestcache.load(str(app)) == {}


def test_unwritable_cache_folder_never_fails(app, tmp_path, monkeypatch):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    next_run(app)
    assert digestcache.load(str(app)) == {}


def test_file_digest_is_unchanged_for_callers(app):
    assert file_digest(str(app / "a.txt")) == hashlib.sha256(b"one").hexdigest()


def test_files_changed_just_now_are_not_stored(app, monkeypatch):
    monkeypatch.setattr(digestcache, "RACY_NS", 3600 * 10**9)
    next_run(app)
    assert digestcache.load(str(app)) == {}
