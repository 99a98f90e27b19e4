"""A dockerd restart under watch, against a daemon this test started itself (never the shared
one): watch must stay alive, reconnect and repair the project (a container without a restart
policy is not restarted by the daemon)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.faults.harness import env_for, kill9, poll, start
from tests.faults.isolated_dockerd import IsolatedDockerd

SPEC = """\
version: 1
project: restartee
containers:
  web:
    image: stand-in/busybox:latest
    command: ["sleep", "100000"]
    stop_timeout: 1s
"""


@pytest.fixture
def dockerd(tmp_path):
    if os.geteuid() != 0 or not shutil.which("dockerd") or not shutil.which("unshare"):
        pytest.skip("an isolated dockerd needs root, dockerd and unshare")
    daemon = IsolatedDockerd(tmp_path)
    try:
        daemon.start()
        image = subprocess.run(
            ["docker", "save", "stand-in/busybox:latest"], capture_output=True, check=True
        ).stdout  # from the shared engine, read only
        daemon.docker("load", stdin=image)
        yield daemon
    finally:
        daemon.cleanup()


def _web_running(daemon: IsolatedDockerd) -> bool:
    try:
        out = daemon.docker("inspect", "-f", "{{.State.Running}}", "restartee-web-1")
    except subprocess.CalledProcessError:
        return False
    return out.strip() == b"true"


def test_watch_survives_a_dockerd_restart_and_repairs(tmp_path, dockerd):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    log = tmp_path / "watch.log"
    env = env_for(DOCKER_HOST=dockerd.host)
    with log.open("w") as sink:
        proc = start("watch", str(spec), "--resync", "5", env=env, output=sink)
    try:
        assert poll(lambda: _web_running(dockerd), 90), log.read_text()[-2000:]
        took = dockerd.restart()
        restarted = time.monotonic()
        assert proc.poll() is None, log.read_text()[-2000:]
        assert poll(lambda: _web_running(dockerd), 90), log.read_text()[-3000:]
        repaired = time.monotonic() - restarted
        assert proc.poll() is None, log.read_text()[-2000:]
        print(f"dockerd restart took {took:.1f} s; repaired {repaired:.1f} s after it answered")
    finally:
        kill9(proc)
