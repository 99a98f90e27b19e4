"""A Docker daemon of the test's own, for faults that must never touch the shared engine (a
dockerd restart): its own network namespace (`unshare --net`), socket, data-root, exec-root,
pidfile, config file and containerd namespaces, like the Swarm worker of
scripts/swarm-setup.sh (docs/swarm-nodes.md). Only the process this fixture started is ever
stopped, by its pid. Needs root and dockerd; the fixture skips without them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from tests.faults.harness import poll


class IsolatedDockerd:
    def __init__(self, base: Path) -> None:
        self.tag = f"rf{uuid.uuid4().hex[:8]}"
        self.run_dir = Path("/run") / self.tag  # short: unix socket paths are limited
        self.data = base / "data"
        self.socket = self.run_dir / "docker.sock"
        self.pidfile = self.run_dir / "docker.pid"
        self.log = base / "dockerd.log"
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        config = self.run_dir / "daemon.json"
        config.write_text(json.dumps({"deprecated-key-path": f"{self.data}/key.json"}) + "\n")
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [
                    "unshare", "--net", "--",
                    "dockerd",
                    "--data-root", str(self.data),
                    "--exec-root", str(self.run_dir / "exec"),
                    "--pidfile", str(self.pidfile),
                    "-H", self.host,
                    "--config-file", str(config),
                    "--containerd-namespace", self.tag,
                    "--containerd-plugins-namespace", f"{self.tag}-plugins",
                    "--bip", "10.233.9.1/24",
                    "--iptables=false",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        if not poll(self.answers, 60, 0.2):
            raise RuntimeError(f"isolated dockerd did not answer: {self.log.read_text()[-2000:]}")

    def answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"isolated dockerd exited: {self.log.read_text()[-2000:]}")
        result = subprocess.run(
            ["docker", "-H", self.host, "info", "--format", "{{.ID}}"],
            capture_output=True,
            timeout=10,
        )
        return result.returncode == 0

    def stop(self) -> None:
        """TERM the daemon this fixture started (its pid only), wait, KILL if it hangs."""
        if self.proc is None:
            return
        pid = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
        poll(lambda: not self.socket.exists(), 10, 0.1)

    def restart(self) -> float:
        started = time.monotonic()
        self.stop()
        self.start()
        return time.monotonic() - started

    def docker(self, *args: str, stdin: bytes | None = None) -> bytes:
        return subprocess.run(
            ["docker", "-H", self.host, *args], input=stdin, capture_output=True, check=True
        ).stdout

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(self.data, ignore_errors=True)
