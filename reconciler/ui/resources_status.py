"""Rows of `reconciler status` for the project's networks and volumes (from a plan and the
observed state; no I/O), and their tables."""

from __future__ import annotations

from typing import Any

from reconciler.model.labels import LABEL_KIND, LABEL_NAME
from reconciler.model.plan import Action, Plan
from reconciler.model.spec import Spec
from reconciler.model.state import State

REFUSED = "changed (refused)"


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
        up_to_date = change.action is Action.UNCHANGED and change.reason != REFUSED
        out[f"{kind}s"].append(
            {
                kind: change.target.key,
                "name": name,
                "driver": (change.after or {}).get("driver") or (observed and observed.driver),
                "external": bool(declared and declared.external),
                "exists": observed is not None,
                "up_to_date": up_to_date,
                "pending": None if up_to_date else f"{change.action}: {change.reason}",
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

    from reconciler.ui.output import console

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
