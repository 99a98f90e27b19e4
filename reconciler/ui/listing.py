"""Listings that need no plan: `reconciler ps` (the project's containers, stopped ones too,
like `docker compose ps`), `reconciler images` (the project's images, and those it still holds
for a container of someone else), and the container rows `status -p NAME` shows without a
spec. Rows from the observed State (and, for images, the references a spec names); no I/O.
Called by commands/ps.py, commands/images.py and commands/status.py."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.model.ids import short_id
from reconciler.model.labels import LABEL_KIND, LABEL_NAME, LABEL_REFERENCE
from reconciler.model.state import ObservedImage, State
from reconciler.ui.output import console
from reconciler.ui.status import observed_row


def ps_rows(state: State) -> list[dict[str, Any]]:
    """One row per container the project owns, whatever its state."""
    return [
        {
            "container": oc.name,
            "id": oc.short_id,
            "key": oc.key,
            "replica": oc.replica,
            "image": oc.image,
            "state": oc.status,
            "health": oc.health,
            "exit_code": oc.exit_code,
            "ports": list(oc.ports),
            "created": oc.created,
        }
        for oc in state.containers
    ]


def label_rows(state: State) -> list[dict[str, Any]]:
    """status's container rows without a spec: what exists, by its labels; whether it is up to
    date cannot be known (None)."""
    return [{**observed_row(oc), "up_to_date": None, "pending": None} for oc in state.containers]


def print_ps(rows: list[dict[str, Any]], color: bool) -> None:
    from rich.table import Table

    t = Table(box=None, pad_edge=False)
    for column in ("NAME", "ID", "IMAGE", "SERVICE", "STATE", "PORTS"):
        t.add_column(column, no_wrap=column != "PORTS")
    for r in rows:
        state = r["state"]
        if r["exit_code"] is not None and r["state"] in ("exited", "dead"):
            state += f" ({r['exit_code']})"
        if r["health"]:
            state += f" ({r['health']})"
        t.add_row(
            r["container"], r["id"], r["image"], r["key"], state, ", ".join(r["ports"]) or "-"
        )
    console(color=color).print(t)


def image_list_rows(state: State, references: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The project's images (labelled: built or committed) and the images behind the
    references its spec names (pulled), each with the containers using it: the project's
    own (`used_by`), the number of others' (`other_users`) and, for the images it made, the
    others by name (`held_for`: the project still holds the image because a container outside
    the project uses it; `destroy --images` keeps it)."""
    own = {oc.name for oc in state.containers}
    index = {i.id: i for i in (*state.images.values(), *state.project_images)}
    seen: dict[str, ObservedImage] = {}
    for image in state.project_images:
        seen.setdefault(image.id, image)
    pulled: set[str] = set()
    for reference in references:
        found = index.get(state.image_id(reference) or "")
        if found is not None:
            seen.setdefault(found.id, found)
            pulled.add(found.id)
    for oc in state.containers:  # images the project's containers still run (old builds too)
        found = index.get(oc.image_id)
        if found is not None:
            seen.setdefault(found.id, found)
    rows: list[dict[str, Any]] = []
    for image in seen.values():
        users = state.image_users.get(image.id, ())
        labelled = image.labels.get(LABEL_KIND) == "image"
        rows.append(
            {
                "image": image.labels.get(LABEL_NAME) or "",
                "tags": list(image.tags) or [image.labels.get(LABEL_REFERENCE) or "<none>"],
                "id": short_id(image.id),
                "made": labelled,  # built or committed by the project
                "pulled": image.id in pulled,
                "used_by": [n for n in users if n in own],
                "other_users": sum(1 for n in users if n not in own),
                # made by the project, kept (destroy --images too) while these use it
                "held_for": [n for n in users if n not in own] if labelled else [],
                "created": image.created,
            }
        )
    return sorted(rows, key=lambda r: (r["image"], r["tags"]))


def held_for_others(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of images the project made that containers of others still use."""
    return [r for r in rows if r["made"] and r["held_for"]]


def print_image_list(rows: list[dict[str, Any]], color: bool, title: str | None = None) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column in ("IMAGE", "TAG", "ID", "SOURCE", "USED BY", "HELD FOR"):
        # USED BY: the project's containers (+N: containers of others); HELD FOR: those
        # others by name, for an image the project made
        t.add_column(column, no_wrap=column not in ("USED BY", "HELD FOR"))
    for r in rows:
        source = "made" if r["made"] else ("pulled" if r["pulled"] else "-")
        t.add_row(
            r["image"] or "-",
            ", ".join(r["tags"]),
            r["id"],
            source,
            ", ".join(r["used_by"] + ([f"+{r['other_users']} other"] if r["other_users"] else []))
            or "-",
            ", ".join(r["held_for"]) or "-",
        )
    console(color=color).print(t)
