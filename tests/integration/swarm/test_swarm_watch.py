"""watch on a real Swarm: a service removed by hand is restored, one scaled by hand is scaled
back, and a failing update is held back with a backoff instead of being retried every pass.
Service events trigger the passes (resync off)."""

from __future__ import annotations

import io
import textwrap

from reconciler.engine import Engine
from reconciler.model.plan import Action, Reason
from reconciler.watch.log import WatchLog
from reconciler.watch.loop import WatchOptions
from reconciler.watch.services import SwarmWatcher
from tests.polling import wait_for

IMAGE = "localhost:5000/stand-in/busybox:1"


def spec_text(project: str, extra: str = "") -> str:
    return textwrap.dedent(
        f"""\
        version: 1
        project: {project}
        target: swarm
        containers:
          web:
            image: {IMAGE}
            command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
            replicas: 2
            endpoint_mode: dnsrr
            stop_timeout: 1s
        """
    ) + textwrap.indent(textwrap.dedent(extra), " " * 4)


def replicas(client, name: str) -> int | None:
    """Running tasks of the service (None when it does not exist)."""
    found = [s for s in client.services.list(filters={"name": name}) if s.name == name]
    if not found:
        return None
    tasks = found[0].tasks(filters={"desired-state": "running"})
    return len([t for t in tasks if t["Status"]["State"] == "running"])


def test_watch_restores_a_removed_or_scaled_service(tmp_path, swarm_project, docker_client):
    project = swarm_project
    name = f"{project}_web"
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(project))
    out = io.StringIO()
    with Engine.connect() as engine:
        watcher = SwarmWatcher(
            spec,
            engine,
            WatchOptions(resync=0, state_file=False),
            WatchLog(json_lines=True, stdout=out, stderr=out),
            project=project,
        )
        watcher.start()
        thread = watcher.run_in_thread()
        try:
            wait_for(lambda: replicas(docker_client, name) == 2, 90, "the service", 0.2)
            first = docker_client.services.get(name).id
            docker_client.services.get(name).remove()  # by hand
            wait_for(
                lambda: (
                    replicas(docker_client, name) == 2
                    and docker_client.services.get(name).id != first
                ),
                90,
                "watch to restore the removed service",
                0.2,
            )
            docker_client.services.get(name).scale(5)  # by hand
            wait_for(
                lambda: (
                    docker_client.services.get(name).attrs["Spec"]["Mode"]["Replicated"]["Replicas"]
                    == 2
                ),
                90,
                "watch to scale the service back",
                0.2,
            )
        except BaseException:
            import faulthandler
            import sys

            print(out.getvalue())  # the watch's own log, for the failure report
            faulthandler.dump_traceback(sys.stdout, all_threads=True)
            raise
        finally:
            watcher.stop("test over")
            thread.join(60)
            watcher.close()
    assert "service remove" in out.getvalue(), out.getvalue()


def test_a_failing_update_is_held_back(tmp_path, swarm_project, docker_client):
    from reconciler.execute.outcome import Outcome, Status
    from reconciler.load.loader import load_spec
    from reconciler.reconcile import make_plan
    from reconciler.watch.services import UpdateHold

    project = swarm_project
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(project))
    failing = 'healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}\n'
    with Engine.connect() as engine:
        from reconciler.reconcile import apply_pass

        assert not apply_pass(load_spec(spec), engine).failed
        spec.write_text(spec_text(project, failing))
        plan, _ = make_plan(load_spec(spec), engine)
    [update] = [c for c in plan.changes if c.action is Action.UPDATE]
    hold = UpdateHold(WatchLog(stdout=io.StringIO(), stderr=io.StringIO()), initial=5.0)
    hold.record([Outcome(update, Status.FAILED, "rolled back")], now=100.0)
    held_plan, held = hold.adjust(plan, now=101.0)
    [kept] = [c for c in held_plan.changes if c.target.key == "web"]
    assert kept.action is Action.UNCHANGED and kept.cause is Reason.HELD
    assert held[0]["start_in"] == 4.0
    again, _ = hold.adjust(plan, now=106.0)  # the delay passed: tried again
    assert [c.action for c in again.changes if c.target.key == "web"] == [Action.UPDATE]
