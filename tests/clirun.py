"""Run the reconciler CLI in-process for integration tests: `cli(*args) -> (code, out, err)`.

Used by unit and integration tests alike (test_apply.py and test_images.py wrap it in a
richer result object)."""

from __future__ import annotations

import contextlib
import io


def cli(*args: str) -> tuple[int, str, str]:
    from reconciler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()
