"""`reconciler watch SPEC`: a full pass (as `apply`), then stay converged: re-apply on spec,
env file and build-context edits, repair drift on engine events, resync periodically. One line
per pass (JSON lines with --output json). SIGINT/SIGTERM stop it within 2 s and leave every
container as it is. See docs/watch.md."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from types import FrameType

from reconciler.commands.common import connect, inputs
from reconciler.errors import ReconcilerError
from reconciler.ui.output import use_color, wants_json
from reconciler.watch.log import WatchLog
from reconciler.watch.loop import WatchOptions
from reconciler.watch.metrics import parse_addr
from reconciler.watch.services import SwarmWatcher

STOP_GRACE_S = 1.6  # from SIGINT/SIGTERM to exit, at most (plus up to 0.1 s to notice it)


def run(args: argparse.Namespace) -> int:
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
        settle=args.settle,
        backoff_max=max(args.backoff_max, 1.0),
        backoff_reset=args.backoff_reset,
        metrics_addr=metrics_addr,
    )
    log = WatchLog(json_lines=wants_json(args), color=use_color(args, sys.stderr))
    log.verbose = args.verbose
    engine = connect()
    watcher = SwarmWatcher(inputs(args), engine, options, log, os.environ, args.project)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
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
