"""The watch loop's counters (`Metrics`, updated by loop.Watcher after each pass and by
crashloop.CrashLoopPolicy) and the optional `/healthz` + `/metrics` HTTP server
(`MetricsServer`, started by Watcher.start for --metrics-addr, whose value commands/watch.py
parses with `parse_addr`). The exposition text is written by prometheus_client, imported only
when a scrape renders it. The server reads a `Watched` (the Watcher, or a fake in tests)."""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from msgspec import Struct, field

from reconciler.errors import ReconcilerError
from reconciler.watch.report import PassReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # prometheus_client's text format


class Metrics(Struct):
    """The watch loop's counters and gauges, updated under `lock`; `/metrics` renders them."""

    passes: int = 0
    failures: int = 0
    changes: int = 0
    drift_repairs: int = 0
    spec_errors: int = 0
    backoffs: int = 0  # containers that entered a crash-loop hold
    held_now: int = 0  # containers held back right now
    last_duration: float = 0.0
    last_pass_time: float = 0.0
    reconnects: int = 0
    watcher_restarts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record_pass(self, report: PassReport, drift: bool, held_now: int, reconnects: int) -> None:
        """Count a finished pass (`drift`: the spec stayed the same since the last pass)."""
        with self.lock:
            self.passes += 1
            self.failures += 0 if report.ok else 1
            self.changes += len(report.done)
            self.drift_repairs += len(report.done) if drift else 0
            self.last_duration = report.seconds
            self.last_pass_time = time.time()
            self.held_now = held_now
            self.reconnects = reconnects

    def rows(self, up: bool) -> list[tuple[str, str, str, float]]:
        """(name without the `reconciler_watch_` prefix, counter|gauge, help, value), read
        under the lock: one consistent snapshot per scrape."""
        with self.lock:
            return [
                ("up", "gauge", "1 while the watch loop runs", 1 if up else 0),
                ("passes_total", "counter", "reconcile passes run", self.passes),
                ("pass_failures_total", "counter", "passes that failed", self.failures),
                ("changes_total", "counter", "changes made by passes", self.changes),
                (
                    "drift_repairs_total",
                    "counter",
                    "changes made while the spec stayed the same (drift repaired)",
                    self.drift_repairs,
                ),
                (
                    "spec_errors_total",
                    "counter",
                    "spec edits rejected as invalid",
                    self.spec_errors,
                ),
                (
                    "backoffs_total",
                    "counter",
                    "container starts held back by crash-loop backoff",
                    self.backoffs,
                ),
                ("backoff_containers", "gauge", "containers held back now", self.held_now),
                (
                    "last_pass_duration_seconds",
                    "gauge",
                    "duration of the last pass",
                    round(self.last_duration, 6),
                ),
                (
                    "last_pass_timestamp_seconds",
                    "gauge",
                    "when the last pass ended (unix time)",
                    round(self.last_pass_time, 3),
                ),
                ("engine_reconnects_total", "counter", "event stream reconnects", self.reconnects),
                (
                    "watcher_restarts_total",
                    "counter",
                    "file watcher restarts after it died",
                    self.watcher_restarts,
                ),
            ]

    def render(self, project: str, up: bool) -> str:
        """The Prometheus text exposition (0.0.4), written by prometheus_client (imported here:
        only a watch with --metrics-addr serves it) from a one-off registry whose collector
        reads `rows`; every metric carries the `project` label."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        rows = self.rows(up)

        class Snapshot:
            def collect(self):  # the Collector protocol of prometheus_client
                for name, kind, help_text, value in rows:
                    full = f"reconciler_watch_{name}"
                    if kind == "counter":
                        family: Any = CounterMetricFamily(full, help_text, labels=["project"])
                    else:
                        family = GaugeMetricFamily(full, help_text, labels=["project"])
                    family.add_metric([project], value)
                    yield family

        registry = CollectorRegistry(auto_describe=False)
        registry.register(Snapshot())  # type: ignore[arg-type]
        return generate_latest(registry).decode()


class Watched(Protocol):
    """What the server reads from the watch loop (loop.Watcher implements it)."""

    @property
    def metrics(self) -> Metrics: ...

    @property
    def project(self) -> str: ...

    @property
    def loop_alive(self) -> bool: ...

    def health(self) -> tuple[bool, str]: ...


class MetricsServer:
    """`/healthz` and `/metrics` (Prometheus text format) on a loopback address, served by
    http.server in a daemon thread."""

    def __init__(self, addr: tuple[str, int], watcher: Watched) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    ok, text = watcher.health()
                    self._send(200 if ok else 503, text + "\n", "text/plain; charset=utf-8")
                elif path == "/metrics":
                    body = watcher.metrics.render(watcher.project, watcher.loop_alive)
                    self._send(200, body, CONTENT_TYPE)
                else:
                    self._send(404, "not found: try /healthz or /metrics\n", "text/plain")

            def _send(self, code: int, body: str, ctype: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        try:
            self.httpd = Server(addr, Handler)
        except OSError as exc:
            raise ReconcilerError(
                f"cannot serve metrics on {addr[0]}:{addr[1]}: {exc.strerror or exc}"
            ) from exc
        host, port = self.httpd.server_address[:2]
        self.address: tuple[str, int] = (str(host), int(port))
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.httpd.shutdown()
            self.httpd.server_close()


def parse_addr(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[v6]:PORT`) -> (host, port); ValueError with a message otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:9102, not {text!r}")
    return host, int(port)
