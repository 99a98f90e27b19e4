"""Issue 15 (7): a `docker rm -f` under `reconciler watch` causes one pass, as the docs
promise (its kill, die and destroy events are one drift, not two).

Ordering, not timing: after the repair, a `docker kill` of a second container is the marker;
the engine sends events in order, so when the marker's pass is recorded the `destroy` of the
removed container has been handled. No pass may have run for that `destroy` alone."""

from __future__ import annotations

import pytest

from tests.integration.watch.test_watch_engine import (
    WatchProcess,
    running_with,
    sleeper,
    spec_text,
    wait_for,
)

pytestmark = pytest.mark.integration


def test_docker_rm_f_causes_one_pass(tmp_path, project, images, docker_client):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        spec_text(project, {"victim": sleeper(images.base), "marker": sleeper(images.base)})
    )
    victim, marker = f"{project}-victim-1", f"{project}-marker-1"
    w = WatchProcess(spec, project)
    try:
        old = wait_for(lambda: running_with(docker_client, victim), what=victim)["id"]
        wait_for(lambda: running_with(docker_client, marker), what=marker)
        wait_for(lambda: w.passes(), what="the first pass")
        seen = len(w.passes())
        docker_client.api.remove_container(victim, force=True)
        wait_for(
            lambda: (s := running_with(docker_client, victim)) and s["id"] != old,
            what="the victim back",
        )
        docker_client.api.kill(marker)
        w.wait_record("pass", lambda r: any(marker in t for t in r["trigger"]))
        later = w.passes()[seen:]
        destroy_only = [
            p
            for p in later
            if p["trigger"] and all(t.startswith("event destroy") for t in p["trigger"])
        ]
        assert destroy_only == [], w.output()
    finally:
        w.close()
