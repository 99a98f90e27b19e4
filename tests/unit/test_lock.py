"""Issue 16 #5: the project lock is an engine-side lease, independent of the environment:
one holder at a time, stale leases (dead holder, expired) are taken over by id, and a holder
on another host is respected until its lease expires."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reconciler import lock
from reconciler.errors import LockHeld
from tests.unit.fake_engine import FakeEngine

P = "p"


@pytest.fixture(autouse=True)
def runtime_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "a"))


def test_a_second_holder_is_refused_whatever_its_environment(tmp_path, monkeypatch):
    engine = FakeEngine()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # a live process on this host holds the lease (it would, from any environment)
        labels = lock._labels(P, 0.0) | {lock.LABEL_EXPIRES: "9e12"}
        labels |= {lock.LABEL_PID: str(other.pid), lock.LABEL_PID_START: lock._pid_start(other.pid)}
        engine.acquire_lease(lock.lease_name(P), labels)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "b"))  # another flock file
        with pytest.raises(LockHeld) as info, lock.project_lock(P, engine):
            pass
        assert f"pid {other.pid}" in str(info.value)
    finally:
        other.kill()
        other.wait()
    with lock.project_lock(P, engine):  # its holder is gone: taken over
        pass
    assert engine.leases == {}  # released


def test_a_lease_of_a_dead_holder_on_this_host_is_taken_over():
    engine = FakeEngine()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    labels = lock._labels(P, 0.0) | {lock.LABEL_PID: dead.stdout.strip()}
    labels[lock.LABEL_EXPIRES] = "9e12"
    engine.acquire_lease(lock.lease_name(P), labels)
    assert lock.stale(labels, 1.0) is not None
    with lock.project_lock(P, engine):
        held = engine.lease_holder(lock.lease_name(P))
        assert held is not None and held["labels"][lock.LABEL_PID] == str(os.getpid())


def test_a_live_holder_on_another_host_holds_until_its_lease_expires():
    labels = lock._labels(P, 100.0) | {lock.LABEL_HOST: "elsewhere", lock.LABEL_PID: "1"}
    assert lock.stale(labels, 101.0) is None
    assert lock.stale(labels, 100.0 + lock.LEASE_TTL + 1) == "expired"


def test_take_over_removes_the_stale_lease_by_id_only():
    engine = FakeEngine()
    labels = lock._labels(P, 0.0)
    labels[lock.LABEL_EXPIRES] = "1"
    engine.acquire_lease(lock.lease_name(P), labels)
    stale_id = engine.lease_holder(lock.lease_name(P))["id"]
    fresh = lock.acquire(engine, P)
    assert fresh != stale_id
    assert not engine.release_lease(stale_id)  # a late second take-over removes nothing
    assert engine.lease_holder(lock.lease_name(P))["id"] == fresh


def test_a_lease_this_process_could_not_release_is_taken_over_by_its_next_pass():
    engine = FakeEngine()
    engine.acquire_lease(lock.lease_name(P), lock._labels(P, 0.0) | {lock.LABEL_EXPIRES: "9e12"})
    with lock.project_lock(P, engine):  # found by the dockerd restart of tests/faults
        pass


def test_a_failed_release_does_not_replace_the_outcome_of_the_pass():
    from reconciler.errors import EngineUnavailable

    class Gone(FakeEngine):
        def release_lease(self, lease_id: str) -> bool:
            raise EngineUnavailable("lost the Docker engine")

    with lock.project_lock(P, Gone()):
        pass
