"""The watch loop's parts without Docker: crash-loop backoff, trigger debouncing, spec reloads
(the last good spec stays in force), the event stream's reconnects with injected faults, the
file watcher's dispatch and restart, metrics, and the loop's retry of failing passes."""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import EngineUnavailable, ReconcilerError
from reconciler.model.plan import Action, Change, Plan, Target
from reconciler.model.state import ObservedContainer, State
from reconciler.watch.crashloop import CrashBackoff
from reconciler.watch.events import EventFollower
from reconciler.watch.files import FileWatch
from reconciler.watch.log import WatchLog
from reconciler.watch.loop import Watcher, WatchOptions
from reconciler.watch.metrics import Metrics, MetricsServer, parse_addr
from reconciler.watch.report import PassReport
from reconciler.watch.specsource import SpecSource
from reconciler.watch.statefile import state_lines
from reconciler.watch.triggers import Trigger, Triggers, describe_triggers
from tests.polling import wait_for as poll

PROJECT = "wunit"


def wait_for(predicate, deadline_s: float = 5.0, what: str = ""):
    return poll(predicate, deadline_s, what, interval=0.01)


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def quiet_log() -> tuple[WatchLog, io.StringIO]:
    out = io.StringIO()
    return WatchLog(json_lines=True, stdout=out, stderr=out), out


def records(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


# --- crash-loop backoff --------------------------------------------------------------------------


def test_quick_exits_back_off_exponentially_up_to_the_cap():
    cb = CrashBackoff(initial=1.0, maximum=8.0, reset=10.0)
    now = 0.0
    cb.started("web-1", "container.web[1]", now, fresh=True)
    delays = []
    for _ in range(6):
        now += 0.1  # it dies at once
        wait, new = cb.wants_start("web-1", "container.web[1]", now, exit_code=1)
        assert new
        delays.append(wait)
        # a second pass during the hold neither counts a new death nor shortens the wait
        again, new_again = cb.wants_start("web-1", "container.web[1]", now + wait / 2)
        assert not new_again and again == pytest.approx(wait / 2)
        now += wait
        cb.started("web-1", "container.web[1]", now)
    assert delays == pytest.approx([1, 2, 4, 8, 8, 8])
    assert cb.records["web-1"].exit_code == 1


def test_a_death_after_a_stable_run_restarts_at_once_and_forgets_past_crashes():
    cb = CrashBackoff(initial=1.0, maximum=300.0, reset=10.0)
    cb.started("w", "a", 0.0)
    assert cb.wants_start("w", "a", 0.5)[0] == 1.0  # quick exit
    cb.started("w", "a", 1.5)
    assert cb.wants_start("w", "a", 2.0)[0] == 2.0  # second quick exit
    cb.started("w", "a", 4.0)
    cb.running("w", 20.0)  # observed up for 16 s: forgiven
    assert cb.in_backoff() == {}
    assert cb.wants_start("w", "a", 30.0) == (0.0, True)


def test_a_container_someone_killed_is_drift_not_a_crash():
    cb = CrashBackoff()
    cb.started("w", "a", 0.0)
    assert cb.wants_start("w", "a", 0.5, exit_code=137, external=True) == (0.0, True)
    cb.started("w", "a", 0.6)
    assert cb.wants_start("w", "a", 0.7)[0] == 1.0  # dying by itself is a quick exit


def test_a_container_never_started_by_us_and_a_fresh_one_start_at_once():
    cb = CrashBackoff()
    assert cb.wants_start("x", "a", 5.0) == (0.0, True)  # found exited when watch began
    cb.started("y", "b", 0.0)
    cb.wants_start("y", "b", 0.1)
    cb.started("y", "b", 2.0, fresh=True)  # replaced by a spec edit: a clean slate
    assert cb.records["y"].quick_exits == 0


def test_the_loop_is_owed_one_pass_per_hold():
    cb = CrashBackoff(initial=1.0)
    cb.started("w", "a", 0.0)
    cb.wants_start("w", "a", 0.2)
    assert cb.next_wakeup() == pytest.approx(1.2)
    assert cb.take_due(1.0) == []
    assert cb.held(1.0).keys() == {"w"}
    assert cb.take_due(1.2) == ["w"]
    assert cb.take_due(5.0) == [] and cb.next_wakeup() is None


# --- triggers ------------------------------------------------------------------------------------


def test_file_triggers_fire_on_the_trailing_edge_and_coalesce():
    clock = Clock(0.0)
    t = Triggers(file_debounce=0.3, event_debounce=0.1, clock=clock)
    t.fire(Trigger("spec", "spec.yaml changed"))
    assert t.files_pending()
    clock.now = 0.2
    t.fire(Trigger("spec", "spec.yaml changed"))
    clock.now = 0.45
    assert t.wait(deadline=0.45) == []  # quiet period restarted at 0.2
    clock.now = 0.5
    got = t.wait(deadline=0.5)
    assert [x.kind for x in got] == ["spec", "spec"] and not t.files_pending()


def test_a_stream_of_file_events_cannot_starve_the_loop():
    clock = Clock(0.0)
    t = Triggers(file_debounce=0.3, clock=clock)
    for i in range(11):  # an edit every 0.2 s for 2 s
        clock.now = i * 0.2
        t.fire(Trigger("context", f"f{i}"))
    assert len(t.wait(deadline=clock.now)) == 11  # max wait (2 s) reached


def test_immediate_triggers_do_not_wait_for_debounced_ones():
    clock = Clock(0.0)
    t = Triggers(clock=clock)
    t.fire(Trigger("spec", "x"))
    t.fire(Trigger("resync"))
    assert t.wait(deadline=0.0) == [Trigger("resync")]
    assert t.files_pending()


def test_wait_returns_on_wake_and_on_deadline():
    t = Triggers()
    threading.Timer(0.05, t.wake).start()
    started = time.monotonic()
    assert t.wait(deadline=time.monotonic() + 5) == []
    assert time.monotonic() - started < 2


def test_describe_triggers_dedupes_and_truncates():
    ts = [Trigger("event", f"die c{i}") for i in range(5)] + [Trigger("event", "die c0")]
    assert describe_triggers(ts) == "event die c0, event die c1, event die c2 (+2 more)"


# --- spec source ---------------------------------------------------------------------------------


SPEC = """\
version: 1
project: {project}
containers:
  web:
    image: stand-in/busybox:latest
    command: ["sleep", "300"]
    env_file: conf/web.env
"""


def write_spec(folder: Path, project: str = PROJECT) -> Path:
    (folder / "conf").mkdir(exist_ok=True)
    (folder / "conf" / "web.env").write_text("FOO=1\n")
    path = folder / "spec.yaml"
    path.write_text(SPEC.format(project=project))
    return path


def test_spec_source_reloads_on_content_changes_only(tmp_path):
    path = write_spec(tmp_path)
    src = SpecSource(path, environ={})
    spec = src.load_initial()
    assert spec.containers["web"].env == {"FOO": "1"}
    assert tmp_path / "conf" / "web.env" in src.inputs()
    assert tmp_path / ".env" in src.inputs()
    assert src.refresh() == ("same", None)
    path.write_text(path.read_text())  # touched, same bytes
    assert src.refresh() == ("same", None)
    (tmp_path / "conf" / "web.env").write_text("FOO=2\n")
    assert src.refresh() == ("changed", None)
    assert src.spec.containers["web"].env == {"FOO": "2"} and src.generation == 2
    (tmp_path / ".env").write_text("UNUSED=1\n")
    assert src.refresh() == ("unchanged", None)  # content changed, spec did not


def test_invalid_and_deleted_specs_keep_the_last_good_one(tmp_path):
    path = write_spec(tmp_path)
    src = SpecSource(path, environ={})
    good = src.load_initial()
    path.write_text(SPEC.format(project=PROJECT).replace('["sleep", "300"]', "[1, [2]]"))
    outcome, error = src.refresh()
    assert outcome == "invalid" and src.spec is good
    rendered = [p.render() for p in error.problems]
    assert any(r.startswith(f"{path}:6:") for r in rendered), rendered
    assert src.refresh() == ("same", None)  # the same bad content is reported once
    path.unlink()
    assert src.refresh() == ("missing", None) and src.spec is good
    assert src.refresh() == ("same", None)
    path.write_text(SPEC.format(project=PROJECT))
    assert src.refresh()[0] in ("changed", "unchanged") and src.error is None


def test_a_changed_project_name_is_refused(tmp_path):
    path = write_spec(tmp_path)
    src = SpecSource(path, environ={})
    good = src.load_initial()
    path.write_text(SPEC.format(project="other"))
    outcome, error = src.refresh()
    assert outcome == "invalid" and src.spec is good
    assert "watch follows one project" in error.problems[0].message


# --- engine events -------------------------------------------------------------------------------


class BlockingStream:
    def __init__(self) -> None:
        self.closed = threading.Event()

    def __iter__(self):
        return self

    def __next__(self):
        self.closed.wait()
        raise StopIteration

    def close(self) -> None:
        self.closed.set()


class FailingAfter:
    """Yields the events, then fails like a lost daemon."""

    def __init__(self, events: list[dict]) -> None:
        self._events = iter(events)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._events)
        except StopIteration:
            raise EngineUnavailable("lost the engine's event stream: connection reset") from None

    def close(self) -> None:
        pass


def event(action: str, cid: str, project: str = PROJECT, name: str = "") -> dict:
    attrs = {"io.reconciler.project": project, "name": name or f"{project}-web-1"}
    return {"Action": action, "id": cid, "Actor": {"ID": cid, "Attributes": attrs}}


class FlakyEngine:
    """events() raises EngineUnavailable twice (daemon down), then streams a few events and
    loses the stream (daemon restart), then follows quietly."""

    def __init__(self) -> None:
        self.calls = 0
        self.filters: list[Any] = []
        self.last = BlockingStream()

    def events(self, filters=None, since=None, until=None):
        self.calls += 1
        self.filters.append(filters)
        if self.calls <= 2:
            raise EngineUnavailable("cannot reach the Docker engine: connection refused")
        if self.calls == 3:
            return FailingAfter(
                [
                    event("die", "aaa"),
                    event("die", "own1"),  # caused by our own pass: ignored
                    event("die", "bbb", project="someone-else"),  # not ours
                    event("start", "aaa"),  # not an action we watch
                    {
                        **event("destroy", "ccc"),
                        "Actor": {
                            "ID": "ccc",
                            "Attributes": {
                                "io.reconciler.project": PROJECT,
                                "io.reconciler.kind": "image",
                            },
                        },
                    },
                    event("health_status: unhealthy", "aaa"),
                ]
            )
        return self.last


def test_event_stream_reconnects_with_backoff_and_asks_for_a_full_pass():
    engine = FlakyEngine()
    fired: list[Trigger] = []
    log, out = quiet_log()
    follower = EventFollower(
        engine, PROJECT, fired.append, log, is_own=lambda cid: cid == "own1", initial=0.01
    )
    follower.start()
    try:
        wait_for(lambda: engine.calls >= 4 and follower.connected, what="a 4th connection")
        assert [str(t) for t in fired] == [
            "reconnect engine reconnected",  # after the two refused connections
            f"event die {PROJECT}-web-1",
            f"event health_status: unhealthy {PROJECT}-web-1",
            "reconnect engine reconnected",  # after the lost stream
        ]
        assert follower.reconnects == 2 and follower.ignored == 1
        assert engine.filters[0] == {
            "label": [f"io.reconciler.project={PROJECT}"],
            "type": ["container"],
            "event": ["die", "stop", "kill", "oom", "destroy", "health_status"],
        }
        messages = [r["message"] for r in records(out)]
        assert any("engine events unavailable" in m for m in messages)
        assert any("lost the engine's event stream" in m for m in messages)
    finally:
        follower.stop()
    assert not follower.alive and engine.last.closed.is_set()


# --- file watching -------------------------------------------------------------------------------


@dataclass
class FakeFsEvent:
    event_type: str
    src_path: str
    dest_path: str = ""
    is_directory: bool = False


def test_file_dispatch_fires_for_inputs_and_kept_context_files_only(tmp_path):
    fired: list[Trigger] = []
    log, out = quiet_log()
    fw = FileWatch(fired.append, log)
    spec = tmp_path / "spec.yaml"
    ctx = tmp_path / "app"
    fw.update([spec], [ctx])
    fw._is_excluded = lambda ctx, rel, df: rel.startswith("node_modules/") or rel.endswith(".log")
    tmp = str(tmp_path / ".spec.yaml.swp")
    fw.dispatch(FakeFsEvent("moved", tmp, str(spec)))  # editor: write temp, rename over
    fw.dispatch(FakeFsEvent("opened", str(spec)))  # our own read: ignored
    fw.dispatch(FakeFsEvent("closed_no_write", str(spec)))
    fw.dispatch(FakeFsEvent("modified", str(ctx / "main.py")))
    fw.dispatch(FakeFsEvent("modified", str(ctx / "debug.log")))
    fw.dispatch(FakeFsEvent("created", str(ctx / "node_modules" / "x.js")))
    fw.dispatch(FakeFsEvent("modified", str(ctx / "sub"), is_directory=True))
    fw.dispatch(FakeFsEvent("modified", str(tmp_path / "unrelated.txt")))
    assert [str(t) for t in fired] == ["spec spec.yaml changed", "context app/main.py changed"]

    def broken(context, rel, dockerfile):
        raise RuntimeError("bad .dockerignore")

    fw._is_excluded = broken
    fw.dispatch(FakeFsEvent("modified", str(ctx / "main.py")))  # must not raise
    assert any("bad .dockerignore" in r["message"] for r in records(out))


def test_file_watcher_sees_real_edits_and_is_restarted_when_it_dies(tmp_path):
    fired: list[Trigger] = []
    log, out = quiet_log()
    fw = FileWatch(fired.append, log)
    spec = tmp_path / "spec.yaml"
    spec.write_text("a")
    fw.update([spec], [])
    try:
        fw.check()
        assert fw.alive and fw.restarts == 0
        spec.write_text("b")
        wait_for(lambda: fired, what="a trigger for the edit")
        fw._observer.stop()  # the observer thread dies
        fw._observer.join(2)
        assert not fw.alive
        fw.check()
        assert fw.alive and fw.restarts == 1
        fired.clear()
        tmp = tmp_path / "spec.yaml.tmp"
        tmp.write_text("c")
        tmp.rename(spec)
        wait_for(lambda: fired, what="a trigger after the restart")
        assert "restarting" in out.getvalue()
    finally:
        fw.stop()


# --- metrics, addresses, status lines ------------------------------------------------------------


def free_port_in_range(lo: int = 23900, hi: int = 23999) -> int:
    for port in range(lo, hi):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 23900-23999")


def test_metrics_render_in_prometheus_text_format():
    m = Metrics(passes=3, failures=1, drift_repairs=2, last_duration=0.25, backoffs=4)
    text = m.render('p"x', up=True)
    assert 'reconciler_watch_passes_total{project="p\\"x"} 3' in text
    assert "# TYPE reconciler_watch_pass_failures_total counter" in text
    assert 'reconciler_watch_drift_repairs_total{project="p\\"x"} 2' in text
    assert 'reconciler_watch_last_pass_duration_seconds{project="p\\"x"} 0.25' in text
    assert 'reconciler_watch_backoffs_total{project="p\\"x"} 4' in text


def test_metrics_server_serves_healthz_and_metrics():
    from types import SimpleNamespace

    healthy = [True]
    fake = SimpleNamespace(
        metrics=Metrics(passes=5),
        project=PROJECT,
        loop_alive=True,
        health=lambda: (healthy[0], "ok" if healthy[0] else "engine event stream disconnected"),
    )
    port = free_port_in_range()
    server = MetricsServer(("127.0.0.1", port), fake)
    try:
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
            assert r.status == 200 and r.read() == b"ok\n"
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:
            assert f'reconciler_watch_passes_total{{project="{PROJECT}"}} 5' in r.read().decode()
        healthy[0] = False
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
        assert exc.value.code == 503
        with pytest.raises(ReconcilerError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            MetricsServer(("127.0.0.1", port), fake)  # the port is taken
    finally:
        server.close()


def test_parse_addr():
    assert parse_addr("127.0.0.1:9102") == ("127.0.0.1", 9102)
    assert parse_addr("[::1]:80") == ("::1", 80)
    for bad in ("9102", "host:", ":80", "h:99999", "h:x"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_addr(bad)


def test_state_lines_show_backoff_and_errors():
    now = time.time()
    lines = state_lines(
        {
            "pid": 42,
            "passes": 7,
            "last_pass": {"trigger": "resync", "changes": 0, "failed": 0, "ended": now},
            "spec_error": "1 problem(s) in spec.yaml",
            "backoff": {
                "p-web-1": {
                    "address": "container.web[1]",
                    "quick_exits": 3,
                    "delay": 4.0,
                    "next_start": now + 3.6,
                }
            },
        }
    )
    text = "\n".join(lines)
    assert "pid 42 (7 passes)" in text and "[resync]: 0 change(s)" in text
    assert "not in force: 1 problem(s)" in text
    assert "p-web-1 (container.web[1]): 3 quick exit(s), delay 4 s, next start in 4 s" in text
    assert state_lines(None) == []


# --- the loop with a fake engine -----------------------------------------------------------------


class LoopEngine:
    """observe() fails `fail` times (engine down), then reports an empty project."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.observed = 0
        self.stream = BlockingStream()

    def acquire_lease(self, name, labels):  # the engine side of the project lock
        return "lease"

    def lease_holder(self, name):
        return None

    def release_lease(self, lease_id):
        return True

    def observe(self, project: str) -> State:
        self.observed += 1
        if self.observed <= self.fail:
            raise EngineUnavailable("cannot reach the Docker engine: connection refused")
        return State(project=project)

    def events(self, filters=None, since=None, until=None):
        return self.stream

    def inspect_container(self, cid):
        return {}


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    return tmp_path / "run" / "reconciler-locks"


def empty_spec(folder: Path, project: str) -> Path:
    path = folder / "spec.yaml"
    path.write_text(f"version: 1\nproject: {project}\n")
    return path


def test_failing_passes_are_retried_with_backoff_then_the_state_file_is_written(tmp_path, lock_dir):
    engine = LoopEngine(fail=2)
    log, out = quiet_log()
    options = WatchOptions(retry_initial=0.05, resync=0, state_file=True)
    w = Watcher(empty_spec(tmp_path, PROJECT), engine, options, log, environ={})
    w.start()
    w.run_in_thread()
    try:
        wait_for(lambda: engine.observed >= 3, what="a third pass")

        def pass_lines():
            return [r for r in records(out) if r["event"] == "pass"]

        passes = wait_for(lambda: len(pass_lines()) >= 3 and pass_lines(), what="3 passes")
        assert [p["ok"] for p in passes[:3]] == [False, False, True]
        assert [p["retry_in"] for p in passes[:2]] == [0.05, 0.1]
        assert passes[1]["trigger"] == ["retry after a failed pass"]
        assert "cannot reach the Docker engine" in passes[0]["error"]

        def state_after_three():
            state = json.loads((lock_dir / f"{PROJECT}.watch.json").read_text())
            return state if state["passes"] >= 3 else None

        state = wait_for(state_after_three, what="the state file after 3 passes")
        assert state["last_pass"]["error"] is None and state["pid"] == os.getpid()
        assert w.metrics.failures == 2 and w.health()[0]
    finally:
        w.stop()
        w._loop_thread.join(2)
        w.close()
    assert not w._loop_thread.is_alive()
    assert not (lock_dir / f"{PROJECT}.watch.json").exists()


def test_spec_edits_that_do_not_change_the_spec_run_no_pass(tmp_path, lock_dir):
    engine = LoopEngine()
    log, out = quiet_log()
    path = empty_spec(tmp_path, PROJECT)
    w = Watcher(path, engine, WatchOptions(resync=0), log, environ={})
    w.source.load_initial()
    w.reconcile([Trigger("start")])
    assert engine.observed == 1
    path.write_text(path.read_text())  # saved, same bytes
    w.reconcile([Trigger("spec", "spec.yaml changed")])
    path.write_text(path.read_text() + "# a comment\n")  # new bytes, same spec
    w.reconcile([Trigger("spec", "spec.yaml changed")])
    assert engine.observed == 1
    path.write_text("version: 1\nproject: [\n")  # invalid: logged, nothing runs
    w.reconcile([Trigger("spec", "spec.yaml changed")])
    assert engine.observed == 1
    errors = [r for r in records(out) if r["event"] == "spec-error"]
    assert len(errors) == 1 and errors[0]["problems"][0]["file"] == str(path)
    assert "keeping the last good spec" in errors[0]["message"]
    # an engine event still gets its pass, with the last good spec
    w.reconcile([Trigger("spec", "spec.yaml changed"), Trigger("event", "die x")])
    assert engine.observed == 2 and len(records(out)) and w.spec.project == PROJECT


def test_adjust_holds_back_crash_looping_starts(tmp_path, lock_dir):
    clock = Clock(1000.0)
    log, _ = quiet_log()
    w = Watcher(empty_spec(tmp_path, PROJECT), LoopEngine(), WatchOptions(), log, {}, clock=clock)
    w.source.load_initial()
    name = f"{PROJECT}-web-1"
    oc = ObservedContainer("c1", name, PROJECT, "web", 1, "exited", exit_code=3)
    state = State(project=PROJECT, containers=(oc,))
    start = Change(Action.START, Target("container", "web", 1, name), "exited", container_id="c1")
    stop = Change(Action.REMOVE, Target("container", "old", 1, "x"), "gone", container_id="c9")
    plan = Plan(PROJECT, (start, stop))
    w.crash.started(name, start.address, clock.now - 0.5)  # started half a second ago
    report = PassReport(1, (Trigger("event", "die"),))
    adjusted = w._adjust(plan, state, report)
    assert adjusted.changes[0].action is Action.UNCHANGED
    assert "crash-loop backoff" in adjusted.changes[0].reason
    assert adjusted.changes[1] == stop
    assert report.held == [{"address": "container.web[1]", "name": name, "start_in": 1.0}]
    assert w._is_own("c9") and not w._is_own("c1")
    clock.now += 1.0
    assert w._adjust(plan, state, PassReport(2, ())).changes[0].action is Action.START
    # started, then killed by someone 0.2 s later: restarted at once
    w.crash.started(name, start.address, clock.now)
    clock.now += 0.2
    w._note_kills([Trigger("event", "kill", "kill", "c1")])
    assert w._adjust(plan, state, PassReport(3, ())).changes[0].action is Action.START


def test_a_cancelled_executor_starts_nothing_new():
    from reconciler.execute.context import ExecOptions
    from reconciler.execute.scheduler import Executor

    class NoEngine:
        def __getattr__(self, name):
            raise AssertionError(f"the engine was called: {name}")

    cancel = threading.Event()
    cancel.set()  # watch sets it on SIGTERM
    create = Change(Action.CREATE, Target("container", "web", 1, "p-web-1"), "missing")
    same = Change(Action.UNCHANGED, Target("container", "db", 1, "p-db-1"), "up to date")
    executor = Executor(NoEngine(), PROJECT, ExecOptions(cancel=cancel))
    outcomes = executor.run(Plan(PROJECT, (create, same)))
    assert [(o.status, o.message) for o in outcomes] == [
        ("skipped", "interrupted"),
        ("unchanged", "up to date"),
    ]
