"""`reconciler watch SPEC`: a full pass (as `apply`), then stay converged: re-apply on spec,
env file and build-context edits, repair drift on engine events, resync periodically. One line
per pass (JSON lines with --output json). SIGINT/SIGTERM stop it within 2 s and leave every
container as it is. See docs/watch.md."""

from __future__ import annotations

import argparse

from reconciler.commands import add_output_arg, add_spec_arg
from reconciler.commands.common import add_pass_args, add_project_arg, seconds

STOP_GRACE_S = 1.6  # from SIGINT/SIGTERM to exit, at most (plus up to 0.1 s to notice it)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch", help="keep the engine converged to the spec (re-apply on changes, repair drift)"
    )
    add_spec_arg(p)
    add_project_arg(p)
    add_output_arg(p)
    add_pass_args(p)
    p.add_argument(
        "--resync",
        type=seconds,
        default=30.0,
        metavar="SECONDS",
        help="run a pass at least this often, whatever happened (default 30; 0: never)",
    )
    p.add_argument(
        "--debounce",
        type=seconds,
        default=0.3,
        metavar="SECONDS",
        help="quiet time after a file edit before the pass (default 0.3)",
    )
    p.add_argument(
        "--backoff-max",
        type=seconds,
        default=300.0,
        metavar="SECONDS",
        help="longest crash-loop restart delay (default 300; delays start at 1 s and double)",
    )
    p.add_argument(
        "--backoff-reset",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="a container up this long is no longer crash-looping (default 10)",
    )
    p.add_argument(
        "--metrics-addr",
        metavar="HOST:PORT",
        help="serve /healthz and Prometheus /metrics here (e.g. 127.0.0.1:9102)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log reconnect attempts too")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os
    import signal
    import sys
    import time

    from reconciler.commands.common import connect
    from reconciler.errors import ReconcilerError
    from reconciler.ui.output import use_color, wants_json
    from reconciler.watch import Watcher, WatchLog, WatchOptions, parse_addr

    metrics_addr = None
    if args.metrics_addr:
        try:
            metrics_addr = parse_addr(args.metrics_addr)
        except ValueError as exc:
            raise ReconcilerError(f"--metrics-addr: {exc}") from None
    options = WatchOptions(
        resync=args.resync,
        debounce=args.debounce,
        prune=not args.no_prune,
        parallel=args.parallel,
        wait_timeout=args.wait_timeout,
        backoff_max=max(args.backoff_max, 1.0),
        backoff_reset=args.backoff_reset,
        metrics_addr=metrics_addr,
    )
    log = WatchLog(json_lines=wants_json(args), color=use_color(args, sys.stderr))
    log.verbose = args.verbose
    engine = connect()
    watcher = Watcher(args.spec, engine, options, log, os.environ, args.project)

    def on_signal(signum: int, _frame) -> None:
        watcher.stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        watcher.start()  # a bad spec or a busy metrics port raise here, before any pass
        thread = watcher.run_in_thread()
        while thread.is_alive() and not watcher.stopping:
            thread.join(0.1)
        deadline = time.monotonic() + STOP_GRACE_S
        watcher.close()  # stop watching (files, events, metrics) while a pass may finish
        thread.join(max(0.0, deadline - time.monotonic()))
        stuck = thread.is_alive()
        reason = watcher.stop_reason or "the loop ended"
        note = "; a pass was still running and is left as it is (the next pass recovers)"
        log.info(
            "stop",
            f"stopped ({reason}): every container is left as it is" + (note if stuck else ""),
            reason=reason,
            interrupted_pass=stuck,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        watcher.close()
    if stuck:
        # The pass's worker threads would keep the interpreter alive until they finish.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    engine.close()
    return 1 if watcher.crashed else 0
