"""`reconciler watch`: a level-triggered control loop that keeps one project converged.

Like a controller-runtime Reconcile: triggers only say "look again"; every pass re-reads the
whole state (reconcile.run_pass: observe -> plan -> execute) against the spec in force.

    spec/.env/env_file edits (watchdog, 300 ms trailing debounce, content hash) --+
    build-context edits (watchdog, .dockerignore'd files skipped) ----------------+--> Triggers
    engine events for the project's containers (die, stop, kill, oom, ...) -------+    (coalesce)
    resync timer (30 s), pass retry timer, crash-loop backoff timer --------------+       |
                                                                       one pass at a time <+

Safety: an invalid, unreadable or deleted spec never changes anything; the last good spec
stays in force. A container that keeps dying is restarted with exponential backoff (its START
is held back in the plan, the planner stays pure); a failing pass is retried with backoff.
SIGINT/SIGTERM stop the loop and leave every container as it is.

The loop's state (passes, backoffs, last error) is written to `<lock dir>/<project>.watch.json`
after every pass; `reconciler status` shows it. See docs/watch.md.

Modules (commands/watch.py and commands/status.py import from this package):
    loop        Watcher, WatchOptions, PassReport: the loop and one pass
    triggers    Trigger, Triggers (coalesce + debounce), describe_triggers
    backoff     Backoff (pass retries, reconnects), CrashBackoff (crash loops)
    specsource  SpecSource: the spec and the files it reads; the last good spec
    files       FileWatch: watchdog on the spec's folder and the build contexts
    events      EventFollower: the engine's container events for the project
    log         WatchLog: text or JSON lines
    metrics     Metrics, MetricsServer (/healthz, /metrics), parse_addr
    statefile   the state file: state_path, read_state, annotate_rows, state_lines

watchdog is imported only when a file watcher starts; nothing here imports docker.
"""

from __future__ import annotations

from reconciler.watch.backoff import Backoff, CrashBackoff, CrashRecord
from reconciler.watch.events import OWN_ACTIONS, WATCHED_ACTIONS, EventFollower
from reconciler.watch.files import FILE_EVENT_TYPES, FileWatch
from reconciler.watch.log import WatchLog
from reconciler.watch.loop import (
    EXTERNAL_ACTIONS,
    HEALTH_CHECK_S,
    KILL_MEMORY_S,
    SETTLE_ACTIONS,
    SETTLE_MAX,
    URGENT_KINDS,
    PassReport,
    Watcher,
    WatchOptions,
)
from reconciler.watch.metrics import Metrics, MetricsServer, parse_addr
from reconciler.watch.specsource import SpecSource
from reconciler.watch.statefile import (
    STATE_SUFFIX,
    annotate_rows,
    read_state,
    state_lines,
    state_path,
)
from reconciler.watch.triggers import Trigger, Triggers, describe_triggers

__all__ = [
    "EXTERNAL_ACTIONS",
    "FILE_EVENT_TYPES",
    "HEALTH_CHECK_S",
    "KILL_MEMORY_S",
    "OWN_ACTIONS",
    "SETTLE_ACTIONS",
    "SETTLE_MAX",
    "STATE_SUFFIX",
    "URGENT_KINDS",
    "WATCHED_ACTIONS",
    "Backoff",
    "CrashBackoff",
    "CrashRecord",
    "EventFollower",
    "FileWatch",
    "Metrics",
    "MetricsServer",
    "PassReport",
    "SpecSource",
    "Trigger",
    "Triggers",
    "WatchLog",
    "WatchOptions",
    "Watcher",
    "annotate_rows",
    "describe_triggers",
    "parse_addr",
    "read_state",
    "state_lines",
    "state_path",
]
