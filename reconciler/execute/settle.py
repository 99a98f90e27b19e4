"""The settle check after a container starts: a create, start or replacement is done only when
the new container is still up. Called by execute/containers.py after `start_container`.

With a healthcheck the container must become healthy (within the wait timeout). Without one it
must still be running `ExecOptions.settle` seconds after its start (default 1 s) and must not
have been restarted by its restart policy meanwhile (the engine's restart count): it is
inspected once, at the end of that window (one call, whatever the window).
The change gives its slot up while it waits, so settling containers do not hold back others.
A container that exited 0 (a one-shot job) is accepted. A failure says the exit code (or the
restart count) and the last lines of the container's log, read through the port.
"""

from __future__ import annotations

import contextlib
import time

from reconciler.errors import NotFound, ReconcilerError
from reconciler.execute.context import RunContext
from reconciler.execute.outcome import ChangeFailed, ExitedAfterStart

LOG_LINES = 5
POLL_S = 0.1


def settle(cid: str, what: str, healthcheck: bool, ctx: RunContext) -> None:
    """Raise ChangeFailed unless the started container `cid` settles (see the module). Only
    waits and reads: the change's slot is free for another meanwhile (context.py)."""
    with ctx.waiting():
        _settle(cid, what, healthcheck, ctx)


def _settle(cid: str, what: str, healthcheck: bool, ctx: RunContext) -> None:
    window = ctx.options.wait_timeout if healthcheck else max(0.0, ctx.options.settle)
    deadline = time.monotonic() + window
    if not healthcheck and ctx.cancel.wait(window):  # only the end of the window decides
        raise ChangeFailed(f"{what}: interrupted while it settled")
    while True:
        try:
            info = ctx.engine.inspect_container(cid)
        except NotFound as exc:
            raise ChangeFailed(f"{what}: the new container vanished right after its start") from exc
        status, code = info.get("status"), info.get("exit_code")
        restarts = int(info.get("restart_count") or 0)
        if status in ("exited", "dead"):
            if code == 0 and not restarts and not healthcheck:
                return  # a one-shot container that completed
            raise ExitedAfterStart(
                _failure(f"{what} exited with code {code} after its start", cid, ctx), code
            )
        if restarts or status == "restarting":
            raise ExitedAfterStart(
                _failure(
                    f"{what} was restarted {max(restarts, 1)} time(s) by its restart policy "
                    f"(last exit code {code})",
                    cid,
                    ctx,
                ),
                code,
            )
        if healthcheck:
            health = info.get("health")
            if health == "healthy":
                return
            if health == "unhealthy":
                raise ChangeFailed(_failure(f"{what} is unhealthy", cid, ctx))
        now = time.monotonic()
        if now >= deadline:
            if healthcheck:
                raise ChangeFailed(
                    _failure(f"{what} did not become healthy within {window:g} s", cid, ctx)
                )
            return
        if ctx.cancel.wait(min(POLL_S, max(0.0, deadline - now))):
            raise ChangeFailed(f"{what}: interrupted while it settled")


def _failure(message: str, cid: str, ctx: RunContext) -> str:
    lines = log_tail(cid, ctx)
    if not lines:
        return message + " (its log is empty)"
    return message + "; last log lines: " + " | ".join(lines)


def log_tail(cid: str, ctx: RunContext, count: int = LOG_LINES) -> list[str]:
    """The last `count` lines of a container's log (stdout and stderr); [] when unreadable."""
    chunks: list[bytes] = []
    with contextlib.suppress(ReconcilerError):
        stream = ctx.engine.logs(cid, follow=False, tail=count)
        try:
            for chunk in stream:
                chunks.append(chunk)
        finally:
            stream.close()
    text = b"".join(chunks).decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()][-count:]
