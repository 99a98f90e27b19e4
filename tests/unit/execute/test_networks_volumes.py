"""Network and volume handlers against a recording engine: labels, reconnects, rollback."""

from __future__ import annotations

import pytest

from reconciler.errors import Conflict
from reconciler.execute.outcome import ChangeFailed as ResourceFailed
from reconciler.execute.registry import HANDLERS
from reconciler.execute.scheduler import Executor
from reconciler.model.config import network_config, volume_config
from reconciler.model.labels import LABEL_CONFIG_HASH, LABEL_KIND, LABEL_NAME, LABEL_PROJECT
from reconciler.model.plan import Action, Change, Plan, Target
from tests.unit.plan.test_resources_plan import (
    DATA,
    FRONT,
    P,
)


def run_resource(engine, project: str, change) -> str:
    """Run one network or volume change through its registered handler."""
    ctx = Executor(engine, project).ctx
    return HANDLERS[change.target.kind].run(change, ctx).message


# --- executor actions against a recording engine -----------------------------------------------


class RecordingEngine:
    def __init__(self, attached=(), fail_create: int = 0) -> None:
        self.calls: list[tuple] = []
        self.attached = list(attached)
        self.fail_create = fail_create  # the first N create_network calls fail

    def create_network(self, name, driver="bridge", labels=None, internal=False, subnet=None):
        self.calls.append(("create_network", name, internal, subnet, dict(labels or {})))
        if self.fail_create:
            self.fail_create -= 1
            raise Conflict(f"cannot create network {name}: pool overlaps")
        return "nid"

    def remove_network(self, name):
        self.calls.append(("remove_network", name))

    def create_volume(self, name, driver="local", driver_opts=None, labels=None):
        self.calls.append(
            ("create_volume", name, driver, dict(driver_opts or {}), dict(labels or {}))
        )
        return name

    def remove_volume(self, name):
        self.calls.append(("remove_volume", name))

    def network_attachments(self, name):
        return self.attached

    def disconnect_network(self, cid, name):
        self.calls.append(("disconnect", cid, name))

    def connect_network(self, cid, name, aliases=None):
        self.calls.append(("connect", cid, name, tuple(aliases or ())))


def _change(action, kind, key, name, before=None, after=None) -> Change:
    return Change(action, Target(kind, key, None, name), "test", before=before, after=after)


def test_create_volume_and_network_carry_ownership_and_hash_labels():
    engine = RecordingEngine()
    cfg = volume_config(DATA)
    run_resource(engine, P, _change(Action.CREATE, "volume", "data", "p_data", after=cfg))
    _, name, driver, opts, labels = engine.calls[0]
    assert (name, driver, opts) == ("p_data", "local", {"type": "tmpfs", "device": "tmpfs"})
    assert labels[LABEL_PROJECT] == P and labels[LABEL_KIND] == "volume"
    assert labels[LABEL_NAME] == "data" and LABEL_CONFIG_HASH in labels
    ncfg = network_config(FRONT)
    run_resource(engine, P, _change(Action.CREATE, "network", "front", "p_front", after=ncfg))
    assert engine.calls[1][4]["tier"] == "front" and engine.calls[1][4][LABEL_KIND] == "network"


MINE = {"id": "c1", "name": "p-web-1", "labels": {LABEL_PROJECT: P}, "aliases": ["web"]}


def test_replace_network_reconnects_its_containers_with_their_aliases():
    engine = RecordingEngine(attached=[MINE])
    before, after = network_config(FRONT), {**network_config(FRONT), "internal": True}
    change = _change(Action.REPLACE, "network", "front", "p_front", before, after)
    message = run_resource(engine, P, change)
    assert "1 container(s) reconnected" in message
    assert [c[0] for c in engine.calls] == [
        "disconnect",
        "remove_network",
        "create_network",
        "connect",
    ]
    assert engine.calls[2][2] is True  # internal
    assert engine.calls[3] == ("connect", "c1", "p_front", ("web",))


def test_replace_network_restores_the_old_definition_when_the_new_one_fails():
    engine = RecordingEngine(attached=[MINE], fail_create=1)
    before, after = network_config(FRONT), {**network_config(FRONT), "subnet": "10.1.0.0/16"}
    change = _change(Action.REPLACE, "network", "front", "p_front", before, after)
    with pytest.raises(ResourceFailed, match="old network was recreated"):
        run_resource(engine, P, change)
    creates = [c for c in engine.calls if c[0] == "create_network"]
    assert [c[3] for c in creates] == ["10.1.0.0/16", None]
    assert engine.calls[-1] == ("connect", "c1", "p_front", ("web",))


def test_replace_network_refuses_to_disconnect_foreign_containers():
    stranger = {"id": "c2", "name": "someone", "labels": {}, "aliases": []}
    # made by hand from an image the project built: inherits the project label, kind image
    from_image = {"id": "c3", "name": "handmade", "labels": {LABEL_PROJECT: P, LABEL_KIND: "image"}}
    engine = RecordingEngine(attached=[MINE, stranger, {**from_image, "aliases": []}])
    change = _change(Action.REPLACE, "network", "front", "p_front", {}, network_config(FRONT))
    with pytest.raises(ResourceFailed, match="handmade, someone"):
        run_resource(engine, P, change)
    assert engine.calls == []  # nothing touched


def test_executor_runs_resource_changes_before_dependent_work():
    engine = RecordingEngine()
    create = _change(Action.CREATE, "volume", "data", "p_data", after=volume_config(DATA))
    remove = Change(
        Action.REMOVE,
        Target("network", "old", None, "p_old"),
        "gone",
        depends_on=("volume.data",),
    )
    outcomes = Executor(engine, P).run(Plan(P, (remove, create)))
    assert [o.status for o in outcomes] == ["done", "done"]
    assert [c[0] for c in engine.calls] == ["create_volume", "remove_network"]
