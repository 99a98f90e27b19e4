"""`reconciler watch`: a level-triggered control loop that keeps one project converged.

Like a controller-runtime Reconcile: triggers only say "look again"; every pass re-reads the
whole state (reconcile.apply_pass: observe -> plan -> execute) against the spec in force.

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

Modules (import from them directly: this package re-exports nothing, so that `status`,
which reads only the state file, does not load the loop):
    loop        Watcher, WatchOptions: the loop and one pass
    report      PassReport: what one pass did
    crashloop   CrashBackoff, CrashRecord (bookkeeping), CrashLoopPolicy (holds back starts)
    printer     what the loop prints: the start line, spec errors, backoffs, one line per pass
    statefile   the state file: state_record, write_state (the loop); state_path, read_state,
                annotate_rows, state_lines (commands/status.py)
    triggers    Trigger, Triggers (coalesce + debounce), describe_triggers
    backoff     Backoff (pass retries, reconnects), exponential_delay
    specsource  SpecSource: the spec and the files it reads; the last good spec
    files       FileWatch: watchdog on the spec's folder and the build contexts
    events      EventFollower: the engine's container events for the project; OwnContainers
                (our own pass's events are not drift); settle_exits
    log         WatchLog: text or JSON lines
    metrics     Metrics, MetricsServer (/healthz, /metrics), parse_addr

Imports run one way: loop -> crashloop, printer, statefile, metrics, events, files,
specsource -> report, log, triggers, backoff. watchdog is imported only when a file watcher
starts; nothing here imports docker.
"""
