"""Issue 15 (7): what a watch pass says. Counts tell failed from skipped, a skipped line says
"skipped" once, a retry that fails the same way does not repeat the block, a fixed spec says
`spec valid again`, and the state file says `1 pass`."""

from __future__ import annotations

import io

from reconciler.watch.log import WatchLog
from reconciler.watch.printer import PassPrinter
from reconciler.watch.report import PassReport
from reconciler.watch.statefile import state_lines
from reconciler.watch.triggers import Trigger


def text_log() -> tuple[WatchLog, io.StringIO]:
    out = io.StringIO()
    return WatchLog(json_lines=False, stdout=out, stderr=out), out


def failed_pass(number: int) -> PassReport:
    r = PassReport(number, (Trigger("resync"),), retry_in=2.0)
    r.failed = [
        {"address": "image.app", "name": "x:1", "status": "failed", "message": "pull failed"},
        *(
            {
                "address": f"container.{k}",
                "name": f"p-{k}-1",
                "status": "skipped",
                "message": "dependency failed: image.app",
            }
            for k in ("a", "b")
        ),
    ]
    return r


def lines(out: io.StringIO) -> list[str]:
    return [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]  # no time


def test_failed_and_skipped_are_counted_apart_and_skipped_said_once():
    log, out = text_log()
    PassPrinter(log).print_pass(failed_pass(1))
    text = lines(out)
    assert "1 change failed, 2 skipped, 0 made; retrying in 2 s" in text[0]
    assert text[1:] == [
        "  failed: image.app (x:1): pull failed",
        "  skipped: container.a (p-a-1): dependency failed: image.app",
        "  skipped: container.b (p-b-1): dependency failed: image.app",
    ]


def test_a_retry_failing_the_same_way_does_not_repeat_the_block():
    log, out = text_log()
    printer = PassPrinter(log)
    printer.print_pass(failed_pass(1))
    printer.print_pass(failed_pass(2))
    text = lines(out)
    assert len(text) == 5
    assert text[4].endswith("(the same failures as pass 1)")


def test_spec_valid_again_after_an_invalid_edit():
    log, out = text_log()
    printer = PassPrinter(log)
    printer.spec_refreshed("invalid", "spec.yaml")
    printer.spec_refreshed("changed", "spec.yaml")
    printer.spec_refreshed("changed", "spec.yaml")
    text = lines(out)
    assert text == ["spec valid again (spec.yaml)", "spec reloaded (spec.yaml)"]


def test_one_pass_is_singular():
    assert state_lines({"pid": 7, "passes": 1})[0] == "Watched by pid 7 (1 pass)."


def test_editor_temp_files_are_not_context_triggers(tmp_path):
    from reconciler.watch.files import FileWatch

    fired: list[Trigger] = []
    log, _ = text_log()
    fw = FileWatch(fired.append, log)
    ctx = tmp_path / "site"
    fw.update([tmp_path / "spec.yaml"], [ctx])
    fw._is_excluded = lambda ctx, rel, df: False

    class Event:
        event_type = "created"
        is_directory = False

        def __init__(self, path):
            self.src_path = str(path)

    for name in ("4913", "index.html~", ".index.html.swp", ".#index.html", "#index.html#"):
        fw.dispatch(Event(ctx / name))
    assert fired == []
    fw.dispatch(Event(ctx / "index.html"))
    assert [str(t) for t in fired] == ["context site/index.html changed"]
