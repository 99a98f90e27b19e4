"""Questions on a terminal: `is_interactive()` (stdin and stdout are terminals) and
`confirm(question)` (y/N, no by default and at end of input). Used by commands/destroy.py
before `--volumes` deletes data."""

from __future__ import annotations

import sys


def is_interactive() -> bool:
    return bool(sys.stdin.isatty() and sys.stdout.isatty())


def confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
