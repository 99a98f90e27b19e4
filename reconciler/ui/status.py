"""The tables of `reconciler status`: one row per container, image, network and volume, from
the spec, the observed state and a plan (no I/O), and their printing (rich, imported only when
a table is printed). Called by commands/status.py; the watch's state is added to the container
rows by watch.statefile.annotate_rows."""

from __future__ import annotations

from typing import Any

from reconciler.model.ids import short_id
from reconciler.model.labels import LABEL_KIND, LABEL_NAME
from reconciler.model.plan import Action, Plan, Reason
from reconciler.model.spec import Spec
from reconciler.model.state import ObservedContainer, State
from reconciler.ui.output import console

# --- containers and images -------------------------------------------------------------------


def observed_row(oc: ObservedContainer) -> dict[str, Any]:
    """What status shows of an existing container, before whether it is up to date."""
    return {
        "container": oc.name,
        "key": oc.key,
        "replica": oc.replica,
        "state": oc.status,
        "health": oc.health,
        "exit_code": oc.exit_code,
        "image": oc.image,
        "ports": list(oc.ports),
    }


def container_rows(spec: Spec, state: State, plan: Plan) -> list[dict[str, Any]]:
    """One row per observed container plus one per desired container that does not exist."""
    by_id = {c.container_id: c for c in plan.changes if c.container_id}
    out: list[dict[str, Any]] = []
    for oc in state.containers:
        change = by_id.get(oc.id)
        pending = action = None
        if change is not None and change.action is not Action.UNCHANGED:
            pending, action = f"{change.name}: {change.reason}", change.name
        out.append(
            {
                **observed_row(oc),
                "up_to_date": pending is None,
                "pending": pending,
                "action": action,  # the pending action's name (the short form of pending)
            }
        )
    for change in plan.changes:
        if change.target.kind == "container" and change.container_id is None:
            out.append(
                {
                    "container": change.target.name,
                    "key": change.target.key,
                    "replica": change.target.replica,
                    "state": "missing",
                    "health": None,
                    "exit_code": None,
                    "image": (change.after or {}).get("image"),
                    "ports": [],
                    "up_to_date": False,
                    "pending": f"{change.name}: {change.reason}",
                    "action": change.name,
                }
            )
    return sorted(out, key=lambda r: (r["key"], r["replica"] or 0, r["container"]))


def image_rows(state: State, plan: Plan) -> list[dict[str, Any]]:
    """One row per image of the spec (and per direct reference its containers or commits
    use), plus the project's images that the plan removes."""
    own = {oc.name for oc in state.containers}
    rows_: list[dict] = []
    for change in plan.changes:
        if change.target.kind != "image":
            continue
        before = change.before or {}
        after = change.after or {}
        image_id = before.get("id") or state.image_id(change.target.name) or ""
        removal = change.action is Action.REMOVE
        up_to_date = change.action is Action.UNCHANGED  # policy always: by registry digest
        kind = "leftover" if removal else after.get("kind", "")
        users = state.image_users.get(image_id, ()) if image_id else ()
        rows_.append(
            {
                "image": change.target.key,
                "reference": change.target.name,
                "kind": kind,
                "id": image_id,
                "present": bool(image_id),
                "used_by": [n for n in users if n in own],  # the project's containers
                "other_users": sum(1 for n in users if n not in own),
                "up_to_date": up_to_date and not removal,
                "pending": None
                if change.action is Action.UNCHANGED
                else f"{change.name}: {change.reason}",
            }
        )
    return rows_


def print_containers(project: str, table: list[dict[str, Any]], color: bool) -> None:
    """The containers table (rich, imported here: only when printing)."""
    from rich.table import Table

    t = Table(title=f"project {project}", title_justify="left", box=None, pad_edge=False)
    whole = {  # identifying columns: never cut (the widest value sets the width)
        "CONTAINER": max((len(r["container"]) for r in table), default=0),
        "PORTS": max((len(p) for r in table for p in r["ports"]), default=0),
    }
    for column in ("CONTAINER", "REPLICA", "STATE", "HEALTH", "IMAGE", "PORTS", "UP TO DATE"):
        # IMAGE folds when the terminal is narrow; the others keep their width
        folds = column == "IMAGE"
        t.add_column(
            column,
            no_wrap=not folds,
            overflow="fold" if folds else "ellipsis",
            min_width=whole.get(column),
        )
    details = []
    for r in table:
        state = r["state"] + (f" ({r['exit_code']})" if r["exit_code"] not in (None, 0) else "")
        if not r["up_to_date"]:
            details.append(f"  {r['container']}: {r['pending']}")
        t.add_row(
            r["container"],
            str(r["replica"] or ""),
            state,
            r["health"] or "-",
            r["image"] or "",
            "\n".join(r["ports"]) or "-",
            "yes" if r["up_to_date"] else f"no: {r['action']}",
        )
    out = console(color=color)
    out.print(t)
    for line in details:  # the reasons in full, below the table
        out.print(line, soft_wrap=True)


def print_images(table: list[dict[str, Any]], color: bool) -> None:
    """The images table (rich, imported here: only when printing)."""
    from rich.table import Table

    t = Table(title="images", title_justify="left", box=None, pad_edge=False)
    for column in ("IMAGE", "REFERENCE", "KIND", "ID", "USED BY", "UP TO DATE"):
        t.add_column(column, no_wrap=column not in ("USED BY", "UP TO DATE"))
    for r in table:
        verdict = "yes" if r["up_to_date"] else f"no ({r['pending']})"
        t.add_row(
            r["image"],
            r["reference"],
            r["kind"],
            short_id(r["id"]) or "missing",
            ", ".join(r["used_by"] + ([f"+{r['other_users']} other"] if r["other_users"] else []))
            or "-",
            verdict,
        )
    console(color=color).print(t)


# --- networks and volumes --------------------------------------------------------------------


def resource_rows(spec: Spec, state: State, plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """{'networks': [...], 'volumes': [...]}: one row per network or volume the spec uses,
    plus the project's own ones it no longer uses (removed on apply, or kept: volumes)."""
    out: dict[str, list[dict[str, Any]]] = {"networks": [], "volumes": []}
    planned: set[tuple[str, str]] = set()
    for change in plan.changes:
        kind = change.target.kind
        if kind not in ("network", "volume"):
            continue
        name = change.target.name
        planned.add((kind, name))
        declared = (spec.networks if kind == "network" else spec.volumes).get(change.target.key)
        observed = _observed(state, kind, name)
        up_to_date = change.action is Action.UNCHANGED and change.cause is not Reason.REFUSED
        out[f"{kind}s"].append(
            {
                kind: change.target.key,
                "name": name,
                "driver": (change.after or {}).get("driver") or (observed and observed.driver),
                "external": bool(declared and declared.external),
                "exists": observed is not None,
                "up_to_date": up_to_date,
                "pending": None if up_to_date else f"{change.name}: {change.reason}",
            }
        )
    for name, volume in sorted(state.volumes.items()):
        if ("volume", name) in planned or volume.labels.get(LABEL_KIND) != "volume":
            continue
        out["volumes"].append(
            {
                "volume": volume.labels.get(LABEL_NAME) or name,
                "name": name,
                "driver": volume.driver,
                "external": False,
                "exists": True,
                "up_to_date": True,
                "pending": None,
                "note": "not used by the spec: kept (destroy --volumes removes it)",
            }
        )
    return out


def _observed(state: State, kind: str, name: str):
    if kind == "network":
        return state.networks.get(name) or state.other_networks.get(name)
    return state.volumes.get(name) or state.other_volumes.get(name)


def print_resources(rows: dict[str, list[dict[str, Any]]], color: bool) -> None:
    from rich.table import Table

    for kind in ("networks", "volumes"):
        if not rows[kind]:
            continue
        t = Table(title=kind, title_justify="left", box=None, pad_edge=False)
        for column in (kind[:-1].upper(), "NAME", "DRIVER", "STATE", "UP TO DATE"):
            t.add_column(column, no_wrap=column != "UP TO DATE")
        for r in rows[kind]:
            state = "present" if r["exists"] else "missing"
            if r["external"]:
                state += " (external)"
            verdict = "yes" if r["up_to_date"] else f"no ({r['pending']})"
            if r.get("note"):
                verdict = r["note"]
            t.add_row(r[kind[:-1]], r["name"], r["driver"] or "-", state, verdict)
        console(color=color).print(t)
