"""Issue 15 (messages): one short form for IDs everywhere: 12 hex digits, no `sha256:`."""

from __future__ import annotations

from reconciler.model.ids import short_id
from reconciler.model.plan import FieldDiff

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def test_plan_diffs_use_the_short_form():
    assert FieldDiff("image_id", A, B).render() == 'image_id: "aaaaaaaaaaaa" -> "bbbbbbbbbbbb"'


def test_listing_and_executor_use_the_same_function():
    from reconciler.execute import images as execute_images
    from reconciler.ui import listing

    assert listing.short_id is short_id and execute_images.short_id is short_id
    assert short_id(A) == "aaaaaaaaaaaa" == short_id("a" * 64)
