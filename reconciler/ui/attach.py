"""`exec` and `logs`: commands and output of a project's running containers.

Used by commands/exec.py and commands/logs.py; talks to the engine only through engine.py.
- exec on a terminal: `docker exec -it` replaces this process when the docker CLI is installed
  (the most faithful TTY: signals, resize, escape keys); otherwise a raw-mode TTY session over
  the API. Elsewhere (pipes, tests): output streamed as it comes, stdout and stderr apart, and
  the command's exit code returned.
- logs: every selected container's output, each line prefixed with its container name
  (coloured per container on a terminal, like compose); with follow, one reader thread per
  container feeding one printer.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, BinaryIO

from reconciler.errors import Conflict, NotFound
from reconciler.model.labels import LABEL_PROJECT, is_aside, owned_container
from reconciler.model.state import ObservedContainer

PALETTE = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")  # like compose


# --- finding containers --------------------------------------------------------------------------


def project_containers(engine, project: str) -> list[ObservedContainer]:
    """The project's containers (one list call), renamed-aside leftovers left out, and
    containers created by hand from the project's images (they inherit its labels) too."""
    found = engine.list_containers_by_label(f"{LABEL_PROJECT}={project}")
    return sorted(
        (c for c in found if not is_aside(c.name) and owned_container(c.labels, project)),
        key=lambda c: (c.key, c.replica, c.name),
    )


def find_container(
    containers: Sequence[ObservedContainer], project: str, name: str, replica: int | None
) -> ObservedContainer:
    """A container by spec key (+ replica, default 1) or by its container name."""
    by_key = [c for c in containers if c.key == name]
    if by_key:
        wanted = replica or 1
        for c in by_key:
            if c.replica == wanted:
                return c
        have = ", ".join(str(c.replica) for c in by_key)
        raise NotFound(f"{name} has no replica {wanted} in project {project} (replicas: {have})")
    for c in containers:
        if c.name == name:
            return c
    keys = sorted({c.key for c in containers})
    known = f"; its containers: {', '.join(keys)}" if keys else "; it has no containers"
    raise NotFound(f"no container {name!r} in project {project}{known}")


def select_containers(
    containers: Sequence[ObservedContainer], project: str, names: Iterable[str]
) -> list[ObservedContainer]:
    """Every container of the given keys or container names (all when none is given)."""
    names = list(names)
    if not names:
        return list(containers)
    chosen: list[ObservedContainer] = []
    for name in names:
        matching = [c for c in containers if c.key == name or c.name == name]
        if not matching:
            find_container(containers, project, name, None)  # raises with the known names
        chosen.extend(c for c in matching if c not in chosen)
    return chosen


def require_running(container: ObservedContainer) -> None:
    if not container.running:
        code = f" ({container.exit_code})" if container.exit_code is not None else ""
        raise Conflict(
            f"container {container.name} is not running (it is {container.status}{code}); "
            "start it with `reconciler apply`"
        )


# --- exec ----------------------------------------------------------------------------------------


def docker_cli_exec_argv(
    container: str,
    cmd: Sequence[str],
    *,
    interactive: bool,
    tty: bool,
    user: str | None = None,
    workdir: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str] | None:
    """The `docker exec` command line, or None when the docker CLI is not installed."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    argv = [docker, "exec"]
    if interactive:
        argv.append("-i")
    if tty:
        argv.append("-t")
    if user:
        argv += ["--user", user]
    if workdir:
        argv += ["--workdir", workdir]
    for k, v in (env or {}).items():
        argv += ["--env", f"{k}={v}"]
    return [*argv, container, *cmd]


def exec_streamed(
    engine,
    container: ObservedContainer,
    cmd: Sequence[str],
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
    user: str | None = None,
    workdir: str | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run without a TTY: output streamed as it comes (stdout and stderr apart); with `stdin`,
    its bytes are sent to the command, then end-of-file. Returns the exit code."""
    stdout = stdout or _binary(sys.stdout)
    stderr = stderr or _binary(sys.stderr)
    session = engine.exec_attach(
        container.id, list(cmd), tty=False, stdin=stdin is not None, user=user or "",
        workdir=workdir, env=env,
    )  # fmt: skip
    pump = None
    if stdin is not None:
        pump = threading.Thread(target=_pump_stdin, args=(session, stdin), daemon=True)
        pump.start()
    try:
        for stream, data in session.frames():
            out = stderr if stream == session.STDERR else stdout
            out.write(data)
            out.flush()
    finally:
        session.close()
    return session.exit_code()


class _TextWriter:
    """Bytes written to a text stream that has no binary buffer (e.g. a StringIO)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode("utf-8", errors="replace"))

    def flush(self) -> None:
        self.stream.flush()


def _binary(stream):
    return getattr(stream, "buffer", None) or _TextWriter(stream)


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _pump_stdin(session, stdin: BinaryIO) -> None:
    with contextlib.suppress(OSError, ValueError):
        while True:
            data = stdin.read1(65536) if hasattr(stdin, "read1") else stdin.read(65536)
            if not data:
                break
            session.send(data)
    session.close_stdin()


def exec_tty(
    engine,
    container: ObservedContainer,
    cmd: Sequence[str],
    *,
    user: str | None = None,
    workdir: str | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """An interactive TTY session over the API (when the docker CLI is not installed): the
    local terminal in raw mode, resized with the window. Returns the exit code."""
    import selectors
    import signal
    import termios
    import tty

    session = engine.exec_attach(
        container.id, list(cmd), tty=True, stdin=True, user=user or "", workdir=workdir, env=env
    )
    in_fd, out_fd = sys.stdin.fileno(), sys.stdout.fileno()

    def resize(*_: Any) -> None:
        size = os.get_terminal_size(out_fd)
        session.resize(size.lines, size.columns)

    saved = termios.tcgetattr(in_fd)
    previous = signal.signal(signal.SIGWINCH, resize)
    try:
        tty.setraw(in_fd)
        resize()
        with selectors.DefaultSelector() as sel:
            sel.register(in_fd, selectors.EVENT_READ, "in")
            sel.register(session, selectors.EVENT_READ, "out")
            done = False
            while not done:
                for key, _ in sel.select():
                    if key.data == "out":
                        data = session.read_some()
                        if not data:
                            done = True
                            break
                        os.write(out_fd, data)
                    else:
                        data = os.read(in_fd, 4096)
                        if data:
                            session.send(data)
                        else:
                            sel.unregister(in_fd)
                            session.close_stdin()
    finally:
        termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, previous)
        session.close()
    return session.exit_code()


# --- logs ----------------------------------------------------------------------------------------


class LinePrefixer:
    """`name | ` before each line, names padded to one width, a colour per container."""

    def __init__(self, containers: Sequence[ObservedContainer], color: bool) -> None:
        width = max((len(c.name) for c in containers), default=0)
        self.prefix: dict[str, str] = {}
        for i, c in enumerate(containers):
            text = f"{c.name:<{width}} | "
            code = PALETTE[i % len(PALETTE)]
            self.prefix[c.id] = f"\x1b[{code}m{text}\x1b[0m" if color else text

    def line(self, container_id: str, text: str) -> str:
        return self.prefix[container_id] + text


def split_lines(buffer: bytes) -> tuple[list[str], bytes]:
    """Complete lines (decoded, line ends removed) and the unfinished rest."""
    *complete, rest = buffer.split(b"\n")
    return [_decode(line) for line in complete], rest


def _decode(line: bytes) -> str:
    return line.rstrip(b"\r").decode("utf-8", errors="replace")


def timestamp_key(line: str) -> tuple[str, str]:
    """Sort key of a `docker logs --timestamps` line (RFC 3339, nanoseconds with trailing
    zeros trimmed): the seconds, then the fraction padded to 9 digits."""
    stamp = line.split(" ", 1)[0].rstrip("Z")
    seconds, _, fraction = stamp.partition(".")
    return seconds, fraction.ljust(9, "0")


def print_logs(
    engine,
    containers: Sequence[ObservedContainer],
    *,
    tail: int | None,
    timestamps: bool,
    color: bool,
    out=None,
) -> None:
    """Every container's logs so far, merged in time order (the engine's timestamps)."""
    out = out or sys.stdout
    prefixer = LinePrefixer(containers, color)
    entries: list[tuple[tuple[str, str], int, int, str, str]] = []
    for order, c in enumerate(containers):
        try:
            data = b"".join(engine.logs(c.id, tail=tail, timestamps=True))
        except NotFound:
            continue  # removed meanwhile
        lines, rest = split_lines(data)
        if rest:
            lines.append(_decode(rest))
        for n, line in enumerate(lines):
            entries.append((timestamp_key(line), order, n, c.id, line))
    entries.sort()
    for _, _, _, cid, line in entries:
        text = line if timestamps else line.split(" ", 1)[-1] if " " in line else ""
        out.write(prefixer.line(cid, text) + "\n")
    out.flush()


def follow_logs(
    engine,
    containers: Sequence[ObservedContainer],
    *,
    tail: int | None,
    timestamps: bool,
    color: bool,
    out=None,
    stop: threading.Event | None = None,
) -> None:
    """Follow every container: one reader thread each, lines printed as they come. Returns
    when every stream ended (containers stopped) or `stop` is set; Ctrl-C ends it quietly."""
    out = out or sys.stdout
    stop = stop or threading.Event()
    prefixer = LinePrefixer(containers, color)
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    streams = []
    for c in containers:
        try:
            streams.append((c, engine.logs(c.id, follow=True, tail=tail, timestamps=timestamps)))
        except NotFound:
            continue
    for c, stream in streams:
        threading.Thread(
            target=_read_stream, args=(c.id, stream, lines), daemon=True, name=f"logs-{c.name}"
        ).start()
    active = len(streams)
    try:
        while active and not stop.is_set():
            try:
                cid, text = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if text is None:
                active -= 1
                continue
            out.write(prefixer.line(cid, text) + "\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        for _, stream in streams:
            stream.close()


def _read_stream(container_id: str, stream, lines: queue.Queue) -> None:
    buffer = b""
    try:
        for chunk in stream:
            complete, buffer = split_lines(buffer + chunk)
            for text in complete:
                lines.put((container_id, text))
    except Exception as exc:  # the engine went away or the stream was closed: end this one
        if not getattr(stream, "_closed", False):
            lines.put((container_id, f"(logs ended: {exc})"))
    finally:
        if buffer:
            lines.put((container_id, _decode(buffer)))
        lines.put((container_id, None))
