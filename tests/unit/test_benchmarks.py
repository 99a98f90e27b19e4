"""The benchmark harness's pure parts: workload generation (the reconciler spec must load; the
compose file must say the same thing), statistics, the counting proxy's HTTP framing and
forwarding (against a fake upstream on a unix socket, no Docker), report rendering and the
targets' verdicts. The harness itself runs with `make bench` (a --quick run takes over a
minute, too long for the suite)."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
import threading

import pytest
import yaml

from benchmarks import report, workload
from benchmarks.machine import interpreter_of
from benchmarks.proxy import CountingProxy, FramingError, RequestCounter, normalise_path
from benchmarks.run import parse_args
from benchmarks.stats import Summary, fmt_ratio, fmt_summary, ratio, summarise
from reconciler.load.loader import load_spec

# --- workload -----------------------------------------------------------------------------------


def test_keys_are_zero_padded_and_sorted():
    assert workload.keys(3) == ["c001", "c002", "c003"]
    keys = workload.keys(1200)
    assert len(keys) == 1200 and keys == sorted(keys) and keys[-1] == "c1200"


def test_reconciler_spec_loads_as_n_containers(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(workload.reconciler_spec("bench-7-abc", 7, revisions={"c002": 3}))
    spec = load_spec(path, {})
    assert spec.project == "bench-7-abc"
    containers = spec.containers
    items = containers.values() if isinstance(containers, dict) else containers
    by_key = {c.key: c for c in items}
    assert sorted(by_key) == workload.keys(7)
    first, second = by_key["c001"], by_key["c002"]
    assert list(first.command) == ["sleep", "100000"]
    assert dict(first.env) == {"BENCH_REV": "0"}
    assert dict(second.env) == {"BENCH_REV": "3"}
    assert first.stop_timeout == 1


@pytest.mark.parametrize("project_network", [True, False])
def test_compose_file_is_the_same_workload(project_network):
    text = workload.compose_file(4, "img:1", {"c001": 2}, project_network=project_network)
    data = yaml.safe_load(text)
    assert data["version"] == "2.4"
    services = data["services"]
    assert sorted(services) == workload.keys(4)
    c1 = services["c001"]
    assert c1["image"] == "img:1"
    assert c1["command"] == ["sleep", "100000"]
    assert c1["environment"] == {"BENCH_REV": "2"}
    assert services["c002"]["environment"] == {"BENCH_REV": "0"}
    assert c1["stop_grace_period"] == "1s"
    assert ("network_mode" in c1) is (not project_network)
    assert "init" not in c1


def test_this_reconciler_supports_init():
    # the benchmark looks for `init` in the packaged schema; when the schema moved (issue 11)
    # it silently ran every tool without an init, so every stop waited its 1 s timeout
    assert workload.spec_supports_init()


def test_init_appears_on_both_sides_when_supported():
    assert "init: true" in workload.compose_file(2, init=True)
    assert "init: true" in workload.reconciler_spec("p", 2, init=True)
    assert workload.limit_create_body("p", "c001", init=True)["HostConfig"]["Init"] is True


def test_limit_body_matches_the_workload():
    body = workload.limit_create_body("bench-2-x", "c002", "img:1", {"c002": 5})
    assert body["Image"] == "img:1"
    assert body["Cmd"] == ["sleep", "100000"]
    assert body["Env"] == ["BENCH_REV=5"]
    assert body["StopTimeout"] == 1
    assert body["Labels"] == {workload.BENCH_LABEL: "bench-2-x"}
    assert body["HostConfig"]["NetworkMode"] == "bench-2-x_default"
    endpoints = body["NetworkingConfig"]["EndpointsConfig"]
    assert endpoints == {"bench-2-x_default": {"Aliases": ["c002"]}}
    bridge = workload.limit_create_body("p", "c001", project_network=False)
    assert bridge["HostConfig"]["NetworkMode"] == "bridge" and "NetworkingConfig" not in bridge


# --- stats --------------------------------------------------------------------------------------


def test_summarise_median_min_max():
    s = summarise([3.0, 1.0, 2.0, 10.0])
    assert s == Summary(4, 2.5, 1.0, 10.0)
    assert summarise([]) is None


def test_ratio_and_formatting():
    a, b = summarise([2.0]), summarise([0.5, 0.5, 0.5])
    assert ratio(a, b) == 4.0
    assert ratio(a, None) is None and ratio(a, Summary(1, 0.0, 0.0, 0.0)) is None
    assert fmt_ratio(4.0) == "4.00×"
    assert fmt_summary(b) == "0.500 s (0.500–0.500)"
    assert fmt_summary(a) == "2.000 s"  # one sample: no range
    assert fmt_summary(summarise([12.34])) == "12.3 s"
    assert fmt_summary(None) == "–"


# --- proxy framing ------------------------------------------------------------------------------


def test_counter_counts_pipelined_requests_split_anywhere():
    stream = (
        b"GET /v1.41/containers/json?all=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /v1.41/containers/create?name=a HTTP/1.1\r\nContent-Length: 11\r\n\r\n"
        b'{"Image":1}'
        b"DELETE /v1.41/containers/abc?force=1 HTTP/1.1\r\n\r\n"
    )
    for size in (1, 3, 7, len(stream)):
        counter = RequestCounter()
        for i in range(0, len(stream), size):
            counter.feed(stream[i : i + size])
        assert counter.requests == [
            ("GET", "/v1.41/containers/json?all=1"),
            ("POST", "/v1.41/containers/create?name=a"),
            ("DELETE", "/v1.41/containers/abc?force=1"),
        ], size


def test_counter_skips_chunked_bodies_and_trailers():
    stream = (
        b"POST /build HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nGET /\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
        b"GET /_ping HTTP/1.1\r\n\r\n"
    )
    for size in (1, 4, len(stream)):
        counter = RequestCounter()
        for i in range(0, len(stream), size):
            counter.feed(stream[i : i + size])
        assert [m for m, _ in counter.requests] == ["POST", "GET"], size


def test_counter_stops_counting_after_an_upgrade():
    counter = RequestCounter()
    counter.feed(
        b"POST /exec/1/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        b"GET /not-a-request HTTP/1.1\r\n\r\n"
    )
    assert counter.requests == [("POST", "/exec/1/start")] and counter.raw


def test_counter_rejects_a_non_http_stream():
    with pytest.raises(FramingError):
        RequestCounter().feed(b"hello there\r\n\r\n")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/v1.41/containers/json?all=1", "/containers/json"),
        ("/v1.41/containers/0123abcd/json", "/containers/{id}/json"),
        ("/v1.41/images/localhost:5000/stand-in/busybox:1/json", "/images/{id}/json"),
        ("/v1.41/containers/0123abcd?force=1", "/containers/{id}"),
        ("/v1.41/networks/create", "/networks/create"),
        ("/v1.41/networks", "/networks"),
        ("/_ping", "/_ping"),
        ("/version", "/version"),
    ],
)
def test_normalise_path(target, expected):
    assert normalise_path(target) == expected


def _fake_upstream(path: str, stop: threading.Event) -> threading.Thread:
    """A unix-socket server answering every request with 200 'ok' (keep-alive)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    server.settimeout(0.2)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            counter = RequestCounter()
            with conn:
                while True:
                    data = conn.recv(4096)
                    if not data:
                        break
                    for _ in counter.feed(data):
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def _read_responses(sock: socket.socket, count: int) -> bytes:
    data = b""
    while data.count(b"\r\n\r\nok") < count:
        chunk = sock.recv(4096)
        assert chunk, "proxy closed the connection early"
        data += chunk
    return data


def test_proxy_forwards_and_counts(tmp_path):
    stop = threading.Event()
    upstream = str(tmp_path / "engine.sock")
    thread = _fake_upstream(upstream, stop)
    try:
        with CountingProxy(str(tmp_path / "proxy.sock"), upstream) as proxy:
            assert proxy.docker_host == f"unix://{tmp_path / 'proxy.sock'}"
            for _ in range(2):  # two connections, the second with two pipelined requests
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                    client.settimeout(5)
                    client.connect(proxy.path)
                    client.sendall(b"GET /v1.41/version HTTP/1.1\r\nHost: d\r\n\r\n")
                    assert b"200 OK" in _read_responses(client, 1)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(5)
                client.connect(proxy.path)
                client.sendall(
                    b"POST /v1.41/containers/x/start HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                    b"GET /v1.41/containers/json HTTP/1.1\r\n\r\n"
                )
                _read_responses(client, 2)
            assert proxy.count() == 4
            assert proxy.breakdown() == {
                "GET /version": 2,
                "POST /containers/{id}/start": 1,
                "GET /containers/json": 1,
            }
            proxy.reset()
            assert proxy.count() == 0
    finally:
        stop.set()
        thread.join(timeout=5)


# --- report -------------------------------------------------------------------------------------


def _samples(*walls):
    return [{"wall": w, "cpu": w / 2} for w in walls]


def _results(noop_50=0.15, compose_noop_50=1.5, calls=(5, 5), watch=None, read_50=0.15):
    sizes = {}
    for n, count in zip(("10", "50"), calls, strict=True):
        sizes[n] = {
            "samples": {
                "reconciler.cold": _samples(1.0, 1.2, 1.1),
                "compose.cold": _samples(2.0, 2.2),
                "limit.cold": _samples(1.0, 1.0),
                "reconciler.noop": _samples(noop_50, noop_50),
                "reconciler.plan": _samples(read_50, read_50),
                "reconciler.status": _samples(read_50, read_50),
                "compose.noop": _samples(compose_noop_50),
                "reconciler.change": _samples(1.5),
                "compose.change": _samples(2.5),
                "reconciler.destroy": _samples(1.3),
                "compose.destroy": _samples(1.9),
                "limit.destroy": _samples(1.2),
            },
            "api_calls": {
                "reconciler": {"count": count, "breakdown": {"GET /containers/json": 1}},
                "compose": {"count": 40, "breakdown": {"GET /containers/{id}/json": 40}},
            },
        }
    return {
        "command": "python -m benchmarks.run --sizes 10,50",
        "started": "2026-01-01T00:00:00Z",
        "duration_s": 120,
        "machine": {"cpus (nproc)": "2", "kernel": "Linux 6"},
        "options": {"repeat": 3, "noops": 2, "workers": 8, "image": "img:1", "init": False},
        "sizes": sizes,
        "watch": watch or {"available": False, "reason": "watch not available"},
    }


def test_render_has_every_section_and_the_command():
    text = report.render(_results(), notes=["noisy machine"])
    assert "`python -m benchmarks.run --sizes 10,50`" in text
    assert "make bench" in text and "> noisy machine" in text
    for heading in (
        "## Machine",
        "### Cold apply",
        "### No-op apply",
        "### One container changed",
        "### Destroy",
        "### Engine API calls of a no-op apply",
        "### Watch",
        "## Targets",
    ):
        assert heading in text
    assert "not measured: watch not available" in text
    assert "| 50 | 1.100 s (1.000–1.200) | 2.100 s (2.000–2.200) | 1.91× | 1.000 s" in text


def test_render_counts_destroys_that_hit_the_engine_network_bug():
    results = _results()
    results["sizes"]["50"]["samples"]["compose.destroy"].append(
        {"wall": 2.0, "cpu": 1.0, "engine_error": "has active endpoints"}
    )
    text = report.render(results)
    assert "in 1 compose run(s)" in text and "moby/moby#43286" in text
    assert "moby/moby#43286" not in report.render(_results())


def test_render_shows_the_load_seen_at_the_measured_steps():
    assert "1-min load" not in report.render(_results())
    results = _results()
    samples = results["sizes"]["10"]["samples"]["reconciler.noop"]
    for sample, load in zip(samples, (0.5, 9.0), strict=True):
        sample["load"] = load
    assert "| 1-min load at the measured steps (min / median / max) | 0.5 / 4.8 / 9.0 |" in (
        report.render(results)
    )


def test_render_marks_a_stalled_tool():
    results = _results()
    data = results["sizes"]["50"]
    data["samples"] = {k: v for k, v in data["samples"].items() if not k.startswith("compose.")}
    data["stalled"] = {"compose": "repetition 1: docker-compose up -d made no progress"}
    text = report.render(results)
    assert "| 50 | 1.100 s (1.000–1.200) | stalled | – |" in text
    assert "- N=50, compose: repetition 1: docker-compose up -d made no progress" in text


def test_run_timed_kills_a_command_without_progress(tmp_path):
    from benchmarks.harness import Stalled, run_timed

    with pytest.raises(Stalled, match="no progress"):
        run_timed(
            ["sleep", "30"], {}, tmp_path, progress=lambda: 0, stall_after=0.3, check_every=0.1
        )
    sample = run_timed(["true"], {}, tmp_path, progress=lambda: 0, stall_after=0.3, check_every=0.1)
    assert 0 <= sample.wall < 2


def test_targets_met():
    verdicts = {t: v for t, _, v in report.targets(_results())}
    assert all(v == "met" for v in verdicts.values()), verdicts
    # calls constant; budget and vs compose for no-op apply, plan and status; cold vs limit
    assert len(verdicts) == 8


def test_targets_missed():
    rows = report.targets(_results(noop_50=0.5, compose_noop_50=1.0, calls=(5, 6), read_50=0.1))
    verdicts = {t: v for t, _, v in rows}
    assert list(verdicts.values()).count("**missed**") == 3, verdicts
    rows = report.targets(_results(read_50=0.3))  # plan and status: budget and ratio
    assert [v for _, _, v in rows].count("**missed**") == 4
    rows = report.targets(_results(noop_50=0.5, compose_noop_50=1.0, calls=(5, 6)))
    measured = {t: m for t, m, _ in rows}
    assert measured["no-op apply: the same number of API calls at every N"] == "N=10: 5, N=50: 6"


def test_watch_section_and_targets():
    watch = {
        "available": True,
        "n": 50,
        "window_s": 300,
        "edit": [1.5, 1.6, 1.7],
        "edit_reaction": [0.2, 0.3, 0.4],
        "kill": [0.5, 0.6, 2.5],
        "timeouts": {"edit": 0, "kill": 1},
        "rss_start": 40 * 1024 * 1024,
        "rss_end": 41 * 1024 * 1024,
        "rss_max_sampled": 42 * 1024 * 1024,
        "rss_hwm": 42 * 1024 * 1024,
    }
    text = report.render(_results(watch=watch))
    assert "| `docker kill` → running again | 0.600 s (0.500–2.500) | 3 | 1 |" in text
    assert "42.0 MiB" in text
    verdicts = [v for t, _, v in report.targets(_results(watch=watch)) if "watch" in t]
    assert verdicts == ["met", "met"]


def test_scale_targets_from_200_and_at_500():
    results = _results()
    for n, noop in (("200", 0.3), ("500", 0.6)):
        results["sizes"][n] = {
            "samples": {
                "reconciler.cold": _samples(10.0),
                "limit.cold": _samples(10.5),
                "reconciler.destroy": _samples(6.0),
                "limit.destroy": _samples(5.0),
                "reconciler.noop": _samples(noop),
            }
        }
    rows = {t: (m, v) for t, m, v in report.targets(results)}
    assert rows["cold apply of 200: within 1.1× of the engine-limit script"][1] == "met"
    assert rows["destroy of 500: within 1.1× of the engine-limit script"][1] == "**missed**"
    assert rows["no-op apply of 500: under 0.5 s wall (median)"][1] == "**missed**"
    assert not any("no-op apply of 200" in t for t in rows)  # the 0.5 s budget is N = 500's
    text = report.render(results)  # sizes without compose samples render too
    assert "| 500 |" in text


def test_watch_at_scale_has_the_rss_and_one_second_budgets():
    watch = {"available": True, "n": 500, "window_s": 120, "kill": [0.7, 0.8], "edit": [1.0]}
    watch |= {"edit_reaction": [0.3], "timeouts": {}, "rss_start": 90 * 1024 * 1024}
    rows = {t: v for t, _, v in report.targets(_results(watch=watch)) if "watch" in t}
    assert rows["watch of 500: a killed container back in under 1 s"] == "met"
    assert rows["watch of 500: RSS after converging under 80.0 MiB"] == "**missed**"


def test_quick_mode_is_small():
    args = parse_args(["--quick"])
    assert (args.sizes, args.repeat, args.watch_size) == ([5], 1, 5)
    assert args.watch_minutes < 1
    assert parse_args(["--quick", "--watch-minutes", "2"]).watch_minutes == 2
    assert parse_args(["--sizes", "50,10"]).sizes == [10, 50]
    with pytest.raises(SystemExit):
        parse_args(["--sizes", "ten"])


def test_tools_choose_what_runs():
    assert parse_args([]).tools == ["reconciler", "compose", "limit"]
    assert parse_args(["--tools", "reconciler,limit"]).tools == ["reconciler", "limit"]
    for bad in ("compose,limit", "reconciler,podman", ""):
        with pytest.raises(SystemExit):
            parse_args(["--tools", bad])


def test_interpreter_of_a_script_names_its_python_and_version(tmp_path):
    script = tmp_path / "tool"
    script.write_text(f"#!{sys.executable} -E\nprint('hi')\n")
    assert interpreter_of(str(script)) == f"{platform.python_version()} ({sys.executable} -E)"
    wrapped = tmp_path / "wrapped"
    wrapped.write_text(f"#!/usr/bin/env {sys.executable}\n")
    assert interpreter_of(str(wrapped)) == f"{platform.python_version()} ({sys.executable})"
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x7fELF\x02")
    assert interpreter_of(str(binary)) == "not a script"
    assert interpreter_of(str(tmp_path / "missing")) == "unknown"


def test_the_makefile_asks_machine_for_the_interpreter_of_a_script(tmp_path):
    """`make bench` builds .venv-bench on what `python -m benchmarks.machine docker-compose`
    prints: the #! line's interpreter, or nothing (then make falls back to $(PYTHON))."""
    wrapped = tmp_path / "wrapped"
    wrapped.write_text(f"#!/usr/bin/env {sys.executable} -E\n")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x7fELF\x02")
    printed = [
        subprocess.run(
            [sys.executable, "-m", "benchmarks.machine", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for path in (wrapped, binary, tmp_path / "missing")
    ]
    assert printed == [f"{sys.executable} -E", "", ""]
