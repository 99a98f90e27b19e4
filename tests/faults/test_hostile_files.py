"""The hostile-file table through `validate`, `plan` and a running `watch`: deep nesting, huge
scalars, huge flow lists, binary, a directory, a deleted file, alias bombs. validate and plan
refuse (or accept) each one within 5 s and 250 MiB, with a message and no traceback; watch
reports each, keeps the last good spec in force and stays alive with flat memory."""

from __future__ import annotations

import os
import resource
import shutil
import time
from pathlib import Path

import pytest

from tests.faults.harness import kill9, poll, rss_kib, run, start

GOOD = """\
version: 1
project: {project}
containers:
  web:
    image: {image}
    command: ["sleep", "100000"]
    stop_timeout: 1s
"""


def _bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


HOSTILE: dict[str, object] = {
    "deep-nesting": "version: 1\nx: " + "[" * 600 + "]" * 600 + "\n",
    "deep-block": "version: 1\nx:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 600)),
    "huge-scalar": (
        "version: 1\nproject: huge\ncontainers:\n  web:\n    image: busybox:1\n"
        "    env: {BIG: " + "x" * (3 * 2**20) + "}\n"
    ),
    "huge-flow-list": "version: 1\nx: [" + "1," * 1_900_000 + "1]\n",
    "over-the-cap": "version: 1\nx: [" + "1," * 2_700_000 + "1]\n",
    "binary": bytes(range(256)) * 4096,
    "alias-bomb": _bomb(),
    "directory": Path,  # the spec path becomes a directory
    "deleted": None,  # the spec file is deleted
}


ACCEPTED = {"huge-scalar"}  # under the cap and valid: accepted, within the same bounds


def _put(path: Path, value: object) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if value is Path:
        path.mkdir()
    elif isinstance(value, bytes):
        path.write_bytes(value)
    elif isinstance(value, str):
        path.write_text(value)


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_validate_and_plan_refuse_hostile_files_quickly_and_small(tmp_path, command, name):
    path = tmp_path / "spec.yaml"
    _put(path, HOSTILE[name])
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    code, out, err = run(command, str(path), timeout=60)
    elapsed = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert code == (0 if name in ACCEPTED else 1), (out, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert elapsed < 5 + 3, elapsed  # 5 s target plus interpreter start-up on a busy machine
    assert max(peak_kib, before) < 250 * 1024, peak_kib


def test_watch_survives_every_hostile_file_with_flat_memory(
    tmp_path, project, images, docker_client
):
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD.format(project=project, image=images.base))
    log = tmp_path / "watch.log"
    with log.open("w") as sink:
        proc = start("watch", str(path), "--resync", "0", output=sink)
    try:
        assert poll(lambda: "pass 1" in log.read_text() and proc.poll() is None, 60)
        baseline = rss_kib(proc.pid)
        rounds = 0
        for name, value in HOSTILE.items():
            seen = log.read_text().count("keeping the last good")
            _put(path, value)
            rounds += 1
            grew = poll(lambda s=seen: log.read_text().count("keeping the last good") > s, 30)
            assert proc.poll() is None, f"watch ended after {name}: {log.read_text()[-2000:]}"
            assert grew, f"watch did not report {name}: {log.read_text()[-2000:]}"
            rss = rss_kib(proc.pid)
            print(f"watch after {name}: RSS {rss // 1024} MiB (baseline {baseline // 1024} MiB)")
            assert rss < baseline + 60 * 1024, f"{name}: RSS {rss} KiB from {baseline} KiB"
            _put(path, GOOD.format(project=project, image=images.base))
            os.utime(path)
        assert rounds == len(HOSTILE)
        assert "internal error" not in log.read_text()
        # still working: drift after the table is repaired
        docker_client.containers.get(f"{project}-web-1").kill()
        assert poll(
            lambda: docker_client.containers.get(f"{project}-web-1").status == "running", 60
        )
    finally:
        kill9(proc)
