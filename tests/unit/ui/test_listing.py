"""ui/listing.py (ps, images, status without a spec) and ui/heartbeat.py (progress lines when
the output is not a terminal): rows from a State, lines from engine progress events."""

from __future__ import annotations

import threading

from reconciler.model.labels import LABEL_KIND, LABEL_NAME, LABEL_PROJECT
from reconciler.model.state import ObservedContainer, ObservedImage, State
from reconciler.ui.heartbeat import Heartbeat, Work
from reconciler.ui.listing import held_for_others, image_list_rows, label_rows, ps_rows
from tests.polling import wait_for

MADE = "sha256:" + "a" * 64
PULLED = "sha256:" + "b" * 64


def container(name: str, key: str, status: str = "running", **kw) -> ObservedContainer:
    return ObservedContainer(
        id=name.ljust(64, "0"), name=name, project="p", key=key, replica=1, status=status, **kw
    )


def state() -> State:
    made = ObservedImage(
        MADE, ("p/app:latest",), {LABEL_PROJECT: "p", LABEL_KIND: "image", LABEL_NAME: "app"}
    )
    pulled = ObservedImage(PULLED, ("busybox:latest",))
    return State(
        project="p",
        containers=(
            container("p-web-1", "web", image="p/app:latest", image_id=MADE),
            container("p-job-1", "job", status="exited", exit_code=3, image_id=PULLED),
        ),
        images={"p/app:latest": made, "busybox:latest": pulled},
        project_images=(made,),
        image_users={MADE: ("p-web-1", "someone-else"), PULLED: ("p-job-1", "x", "y")},
    )


def test_ps_lists_stopped_containers_with_their_exit_code():
    rows = {r["container"]: r for r in ps_rows(state())}
    assert rows["p-job-1"]["state"] == "exited" and rows["p-job-1"]["exit_code"] == 3
    assert rows["p-web-1"]["id"] == "p-web-1".ljust(12, "0")[:12]


def test_images_name_the_others_only_for_an_image_the_project_made():
    rows = {r["id"]: r for r in image_list_rows(state(), ["busybox:latest"])}
    made, pulled = rows[MADE[7:19]], rows[PULLED[7:19]]
    assert made["made"] and made["used_by"] == ["p-web-1"]
    assert made["held_for"] == ["someone-else"]
    assert pulled["pulled"] and pulled["held_for"] == [] and pulled["other_users"] == 2
    assert [r["id"] for r in held_for_others(list(rows.values()))] == [MADE[7:19]]


def test_status_rows_without_a_spec_leave_up_to_date_unknown():
    rows = label_rows(state())
    assert {r["up_to_date"] for r in rows} == {None}
    assert {r["container"] for r in rows} == {"p-web-1", "p-job-1"}


def test_pull_progress_counts_layers_and_bytes():
    work = Work("image.x", "reg/x:1", "pull")
    work.read({"status": "Pulling from reg/x", "id": "1"})
    for layer in ("aaa", "bbb"):
        work.read({"status": "Pulling fs layer", "id": layer})
    work.read(
        {"status": "Downloading", "id": "aaa", "progressDetail": {"current": 500, "total": 1000}}
    )
    work.read({"status": "Pull complete", "id": "bbb"})
    body = work.to_json()
    assert (body["layers"], body["layers_done"], body["bytes"], body["bytes_total"]) == (
        2,
        1,
        500,
        1000,
    )
    assert work.text().endswith("pull: 1/2 layers, 500 B/1.0 kB")


def test_build_progress_names_the_step_for_both_builders():
    work = Work("image.app", "p/app:latest", "build")
    work.read({"stream": "Step 2/5 : RUN make\n"})
    assert work.text().endswith("build: step 2/5: RUN make")
    work.read({"stream": "#7 [stage-1 3/4] COPY . /src\n"})
    assert (work.step, work.steps, work.instruction) == (3, 4, "COPY . /src")


def test_heartbeat_writes_while_work_is_under_way_and_stops_after_done():
    lines: list[str] = []
    seen = threading.Event()

    def write(work: Work) -> None:
        lines.append(work.text())
        seen.set()

    beat = Heartbeat(write, every=0.01)
    beat.feed({"event": "begin", "address": "image.x", "action": "pull", "name": "x"})
    beat.feed({"event": "begin", "address": "container.web[1]", "action": "create"})
    wait_for(seen.is_set, what="a progress line")
    beat.feed({"event": "done", "address": "image.x"})
    assert beat.work == {}
    beat.stop()
    assert all(line.startswith("  … image.x (x): pull") for line in lines)
