"""What the watch loop says: the start line, spec reloads and errors, crash-loop holds, and one
line per pass (plus its failures and warnings in text mode). Every function writes to a
log.WatchLog; called by loop.Watcher and crashloop.CrashLoopPolicy."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from reconciler.errors import SpecError
from reconciler.model.plan import Change
from reconciler.watch.log import WatchLog
from reconciler.watch.report import PassReport
from reconciler.watch.specsource import SpecSource
from reconciler.watch.triggers import describe_triggers


def print_start(
    log: WatchLog,
    source: SpecSource,
    project: str,
    contexts: Collection[Path],
    resync: float,
    metrics_address: tuple[str, int] | None,
) -> None:
    """The first line of a watch: what it watches, its resync and its metrics address."""
    extra = f", {len(contexts)} build context(s)" if contexts else ""
    resync_text = f"resync every {resync:g} s" if resync else "no resync"
    metrics = (
        f"; metrics on http://{metrics_address[0]}:{metrics_address[1]}/metrics"
        if metrics_address
        else ""
    )
    log.info(
        "watch",
        f"watching {source.display} (project {project}{extra}); {resync_text}{metrics}",
        project=project,
        spec=str(source.path),
        contexts=[str(c) for c in contexts],
        pid=os.getpid(),
    )


def print_spec_error(log: WatchLog, error: SpecError) -> None:
    problems = [p.to_json() for p in error.problems]
    lines = [p.render() for p in error.problems]
    log.error(
        "spec-error",
        "invalid spec; keeping the last good spec (nothing was changed):\n  " + "\n  ".join(lines),
        problems=problems,
    )


def print_spec_missing(log: WatchLog, source: SpecSource) -> None:
    log.warn(
        "spec-missing",
        f"{source.display} was deleted or cannot be read; keeping the last good "
        "spec (nothing is removed)",
    )


def print_spec_reloaded(log: WatchLog, source: SpecSource) -> None:
    log.info("spec", f"spec reloaded ({source.display})", generation=source.generation)


def print_refresh(log: WatchLog, source: SpecSource, outcome: str, error: SpecError | None) -> None:
    """What a re-read of the spec's files found (SpecSource.refresh's outcome), when worth
    saying: an invalid spec (with its problems), a missing one, or a reloaded one."""
    if outcome == "invalid" and error is not None:
        print_spec_error(log, error)
    elif outcome == "missing":
        print_spec_missing(log, source)
    elif outcome == "changed":
        print_spec_reloaded(log, source)


def print_backoff(
    log: WatchLog,
    change: Change,
    quick_exits: int,
    ran: float | None,
    delay: float,
    exit_code: int | None,
) -> None:
    """A container entered (or stays in) a crash-loop hold after a new quick exit."""
    name = change.target.name
    code = f" (code {exit_code})" if exit_code is not None else ""
    log.warn(
        "backoff",
        f"crash-loop backoff: {change.address} ({name}) exited{code} "
        f"{ran or 0:.1f} s after its start, quick exit {quick_exits} in a row; "
        f"next start in {delay:g} s",
        address=change.address,
        name=name,
        quick_exits=quick_exits,
        delay=delay,
        exit_code=exit_code,
    )


def print_pass(log: WatchLog, r: PassReport) -> None:
    """One line per pass (a JSON record with --output json); in text mode also each failed
    change and each warning on its own line."""
    trigger = describe_triggers(r.triggers)
    if r.error:
        what = f"failed: {r.error.rstrip('.')}"
    elif r.failed:
        what = f"{len(r.failed)} change(s) failed, {len(r.done)} made"
    elif r.done:
        listed = ", ".join(f"{d['action']} {d['address']}" for d in r.done[:5])
        more = f" (+{len(r.done) - 5} more)" if len(r.done) > 5 else ""
        what = f"{len(r.done)} change(s): {listed}{more}"
    else:
        what = "no changes"
    if r.held:
        what += "; held back: " + ", ".join(
            f"{h['address']} (start in {h['start_in']:.1f} s)" for h in r.held
        )
    retry = f"; retrying in {r.retry_in:g} s" if r.retry_in is not None else ""
    line = f"pass {r.number} ({r.seconds:.2f} s) [{trigger}]: {what}{retry}"
    fields = {
        "pass": r.number,
        "trigger": [str(t) for t in r.triggers],
        "changes": r.done,
        "failed": r.failed,
        "held_back": r.held,
        "seconds": round(r.seconds, 4),
        "ok": r.ok,
        "error": r.error,
        "retry_in": r.retry_in,
    }
    if r.problems:
        fields["problems"] = r.problems
    if r.ok:
        log.info("pass", line, **fields)
    else:
        log.error("pass", line, **fields)
    if not log.json:
        for f in r.failed:
            log.error("change", f"  {f['status']}: {f['address']} ({f['name']}): {f['message']}")
        for w in dict.fromkeys(r.warnings):
            log.warn("warning", f"  warning: {w}")
