"""Engine failures -> the project's errors (errors.py), for both transports: the SDK's
exceptions (docker.errors / requests / urllib3, imported only when the SDK is in use) and
engine/rawhttp.py's. Called by engine/client.py `EngineClient._translate` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.errors import Conflict, EngineError, EngineUnavailable, NotFound

SETUP_HINT = "Start dockerd (e.g. `bash scripts/engine-setup.sh`) or set DOCKER_HOST."

Rewrite = Callable[[str], str] | None


def status_error(
    action: str, status: int, explanation: str, conflict: Rewrite, not_found: Rewrite
) -> EngineError:
    """The project's error for an engine error answer (either path)."""
    if status == 404:
        return NotFound(not_found(explanation) if not_found else f"{action}: {explanation}")
    if status == 409:
        return Conflict(conflict(explanation) if conflict else f"{action}: {explanation}")
    return EngineError(f"{action}: {explanation}")


def timed_out(action: str, address: str) -> EngineError:
    return EngineError(f"{action}: the Docker engine at {address} did not answer in time")


def lost(action: str, address: str, cause: str) -> EngineUnavailable:
    return EngineUnavailable(
        f"{action}: lost the Docker engine at {address}: {cause}. {SETUP_HINT}"
    )


def sdk_error(
    exc: BaseException, action: str, address: str, conflict: Rewrite, not_found: Rewrite
) -> EngineError | None:
    """The project's error for an SDK/requests exception, or None if it is none of those
    (imports the SDK: call only when the SDK client exists)."""
    import docker.errors
    import requests.exceptions
    import urllib3.exceptions

    if isinstance(exc, docker.errors.APIError):
        status = exc.status_code or 0
        return status_error(action, status, explanation(exc), conflict, not_found)
    if isinstance(exc, requests.exceptions.Timeout):
        return timed_out(action, address)
    gone = (requests.exceptions.ConnectionError, urllib3.exceptions.ProtocolError)
    if isinstance(exc, (*gone, ConnectionError)):
        return lost(action, address, root_cause(exc))
    if isinstance(exc, docker.errors.DockerException):
        return EngineError(f"{action}: {exc}")
    return None


def explanation(exc: Any) -> str:
    text = getattr(exc, "explanation", None)
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return (text or str(exc)).strip()


def root_cause(exc: BaseException) -> str:
    """The innermost cause's message: "[Errno 2] No such file or directory", not the whole
    chain of requests/urllib3 wrappers."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = exc.__cause__ or exc.__context__
        if inner is None and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if inner is None:
            reason = getattr(exc, "reason", None)
            inner = reason if isinstance(reason, BaseException) else None
        if inner is None:
            break
        exc = inner
    return str(exc) or type(exc).__name__
