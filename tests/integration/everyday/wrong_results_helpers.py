"""Helpers of the issue-15 "wrong results" tests: run the CLI in-process, write specs, and
free host ports from this folder's range (27000-27499, published on 127.0.0.1 only)."""

from __future__ import annotations

import contextlib
import io
import itertools
import socket
import textwrap
from dataclasses import dataclass
from pathlib import Path

PORT_RANGE = (27000, 27499)
_ports = itertools.count(PORT_RANGE[0])


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def cli(*args: str) -> Result:
    """The CLI in this process, output captured (no colours)."""
    from reconciler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--no-color", *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def write(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def free_port() -> int:
    for port in _ports:
        if port > PORT_RANGE[1]:
            break
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port left in 27000-27499")
