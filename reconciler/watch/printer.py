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


class PassPrinter:
    """The pass lines of one watch, with the memory they need: the failure block last shown
    (a retry failing the same way says so in one line) and whether the spec on disk was
    invalid (the next good one is `spec valid again`). Used by loop.Watcher."""

    def __init__(self, log: WatchLog) -> None:
        self.log = log
        self.last_block: tuple[int, Block] | None = None  # (pass number, its lines)
        self.invalid = False

    def print_pass(self, r: PassReport) -> None:
        block = print_pass(self.log, r, self.last_block)
        if not block:
            self.last_block = None
        elif self.last_block is None or block != self.last_block[1]:
            self.last_block = (r.number, block)

    def spec_refreshed(self, outcome: str, display: str, error: SpecError | None = None) -> None:
        """What a re-read of the spec found: an error, `spec valid again`, a reload."""
        if outcome == "invalid":
            self.invalid = True
            if error is not None:
                print_spec_error(self.log, error)
        elif outcome == "missing":
            self.log.warn(
                "spec-missing",
                f"{display} was deleted or cannot be read; keeping the last good "
                "spec (nothing is removed)",
            )
        elif outcome in ("changed", "unchanged") and self.invalid:
            self.invalid = False
            self.log.info("spec", f"spec valid again ({display})")
        elif outcome == "changed":
            self.log.info("spec", f"spec reloaded ({display})")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


Block = list[tuple[str, str]]  # (event, text) lines under a pass line


def print_pass(log: WatchLog, r: PassReport, shown: tuple[int, Block] | None = None) -> Block:
    """One line per pass (a JSON record with --output json); in text mode also each failed
    change and each warning on its own line, unless they are `shown` (the previous pass's
    block: a retry failing the same way). Returns this pass's block."""
    trigger = describe_triggers(r.triggers)
    skipped = [f for f in r.failed if f.get("status") == "skipped"]
    failed = len(r.failed) - len(skipped)
    if r.error:
        what = f"failed: {r.error.rstrip('.')}"
    elif r.failed:
        what = f"{_count(failed, 'change')} failed"
        what += f", {len(skipped)} skipped" if skipped else ""
        what += f", {len(r.done)} made"
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
    block = [
        ("change", f"  {f['status']}: {f['address']} ({f['name']}): {f['message']}")
        for f in r.failed
    ]
    block += [("warning", f"  warning: {w}") for w in dict.fromkeys(r.warnings)]
    repeated = bool(block) and shown is not None and block == shown[1]
    if repeated and shown is not None and not log.json:
        line += f" (the same failures as pass {shown[0]})"
    if r.ok:
        log.info("pass", line, **fields)
    else:
        log.error("pass", line, **fields)
    if not log.json and not repeated:
        for event, text in block:
            (log.warn if event == "warning" else log.error)(event, text)
    return block
