"""The engine's stream helpers that need no engine (engine/streams.py): the build log
follower that names a failing step."""

from __future__ import annotations

from reconciler.engine.streams import BuildLog


def test_build_log_names_the_failing_step_and_the_tail_of_its_output():
    log = BuildLog()
    log.feed("Step 1/3 : FROM x\n ---> abc\nStep 2/3 : RUN make\n ---> Running in 1f\n")
    log.feed("\x1b[91mcc: error\n\x1b[0mpartial ")
    log.feed("line\n")
    message = log.failure("cannot build p/w:latest", "returned a non-zero code: 2")
    assert message.startswith("cannot build p/w:latest: failed at step 2/3 RUN make: returned")
    assert message.splitlines()[1:] == ["    | cc: error", "    | partial line"]
