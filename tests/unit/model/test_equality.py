"""Record types compare by value, leaving out only what says where a value was written or
what explains it (model/equality.py); and they stay immutable where they were frozen."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from reconciler.errors import Location, Problem
from reconciler.model.spec import PortBinding, Spec
from reconciler.watch.triggers import Trigger

HERE = Location("a.yaml", 3, 5)
THERE = Location("b.yaml", 9, 1)


def test_a_port_is_the_same_wherever_it_is_written():
    a = PortBinding(80, host_port=8080, location=HERE)
    b = PortBinding(80, host_port=8080, location=THERE)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != replace(a, host_port=8081)
    assert a != replace(a, protocol="udp")


def test_a_spec_is_the_same_whatever_its_warnings():
    a = Spec("p", "/s.yaml", warnings=(Problem("old key", HERE),))
    b = Spec("p", "/s.yaml")
    assert a == b
    assert a != replace(b, project="q")


def test_an_event_trigger_is_the_same_whatever_its_action_and_container():
    a = Trigger("event", "web", action="die", ref="abc")
    b = Trigger("event", "web", action="stop", ref="def")
    assert a == b and hash(a) == hash(b)
    assert a != Trigger("event", "db", action="die", ref="abc")
    assert a != Trigger("spec", "web")


def test_records_of_different_types_are_never_equal():
    assert PortBinding(80) != (80, "tcp", "", None, None, None, None, None)
    assert Trigger("spec") != "spec"


def test_frozen_records_refuse_assignment_and_locations_order():
    port = PortBinding(80)
    with pytest.raises(AttributeError):
        port.container_port = 81  # type: ignore[misc]
    assert sorted([THERE, HERE, Location("a.yaml", 1, 9)]) == [
        Location("a.yaml", 1, 9),
        HERE,
        THERE,
    ]
