"""`reconciler status SPEC`: the project's containers as the engine sees them, and whether
each is up to date with the spec (table, or JSON with --output json)."""

from __future__ import annotations

import argparse

from reconciler.commands import add_output_arg, add_spec_arg
from reconciler.commands.common import add_project_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show the project's containers and whether they match")
    add_spec_arg(p)
    add_project_arg(p)
    add_output_arg(p)
    p.set_defaults(handler=run)


def rows(spec, state, plan) -> list[dict]:
    """One row per observed container plus one per desired container that does not exist."""
    from reconciler.model.plan import Action

    by_id = {c.container_id: c for c in plan.changes if c.container_id}
    out: list[dict] = []
    for oc in state.containers:
        change = by_id.get(oc.id)
        pending = "yes" if change is None or change.action is Action.UNCHANGED else None
        out.append(
            {
                "container": oc.name,
                "key": oc.key,
                "replica": oc.replica,
                "state": oc.status,
                "health": oc.health,
                "exit_code": oc.exit_code,
                "image": oc.image,
                "ports": list(oc.ports),
                "up_to_date": pending == "yes",
                "pending": None if pending else f"{change.action}: {change.reason}",
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
                    "pending": f"{change.action}: {change.reason}",
                }
            )
    return sorted(out, key=lambda r: (r["key"], r["replica"] or 0, r["container"]))


def image_rows(state, plan) -> list[dict]:
    """One row per image of the spec (and per direct reference its containers or commits
    use), plus the project's images that the plan removes."""
    from reconciler.model.plan import Action

    own = {oc.name for oc in state.containers}
    rows_: list[dict] = []
    for change in plan.changes:
        if change.target.kind != "image":
            continue
        before = change.before or {}
        after = change.after or {}
        image_id = before.get("id") or state.image_id(change.target.name) or ""
        removal = change.action is Action.REMOVE_IMAGE
        always = change.action is Action.PULL and after.get("policy") == "always" and image_id
        up_to_date = change.action is Action.UNCHANGED or bool(always)
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
                else f"{change.action}: {change.reason}",
            }
        )
    return rows_


def _print_images(table: list[dict], color: bool) -> None:
    from rich.table import Table

    from reconciler.ui.output import console

    t = Table(title="images", title_justify="left", box=None, pad_edge=False)
    for column in ("IMAGE", "REFERENCE", "KIND", "ID", "USED BY", "UP TO DATE"):
        t.add_column(column, no_wrap=column not in ("USED BY", "UP TO DATE"))
    for r in table:
        if r["up_to_date"]:
            verdict = "yes" if not r["pending"] else "yes (pulled again on apply: policy always)"
        else:
            verdict = f"no ({r['pending']})"
        t.add_row(
            r["image"],
            r["reference"],
            r["kind"],
            r["id"].removeprefix("sha256:")[:12] or "missing",
            ", ".join(r["used_by"] + ([f"+{r['other_users']} other"] if r["other_users"] else []))
            or "-",
            verdict,
        )
    console(color=color).print(t)


def run(args: argparse.Namespace) -> int:
    from reconciler.commands.common import connect, load
    from reconciler.plan.containers import plan
    from reconciler.ui.output import print_json, use_color, wants_json

    spec = load(args)
    with connect() as engine:
        state = engine.observe(spec.project)
    from reconciler.buildctx.context import build_sources

    result = plan(spec, state, sources=build_sources(spec))
    table = rows(spec, state, result)
    images = image_rows(state, result)
    from reconciler.watch import annotate_rows, read_state, state_lines

    watch = read_state(spec.project)  # a running `reconciler watch` of this project, if any
    annotate_rows(table, watch)
    from reconciler.ui.resources_status import print_resources, resource_rows

    resources = resource_rows(spec, state, result)
    if wants_json(args):
        print_json(
            {
                "project": spec.project,
                "containers": table,
                "images": images,
                **resources,
                "watch": watch,
            }
        )
        return 0
    if not table:
        print(f"Project {spec.project}: no containers.")
    else:
        _print_table(spec.project, table, use_color(args))
    if images:
        _print_images(images, use_color(args))
    print_resources(resources, use_color(args))
    for line in state_lines(watch):
        print(line)
    return 0


def _print_table(project: str, table: list[dict], color: bool) -> None:
    from rich.table import Table

    from reconciler.ui.output import console

    t = Table(title=f"project {project}", title_justify="left", box=None, pad_edge=False)
    for column in ("CONTAINER", "REPLICA", "STATE", "HEALTH", "IMAGE", "PORTS", "UP TO DATE"):
        t.add_column(column, no_wrap=column != "PORTS")
    for r in table:
        state = r["state"] + (f" ({r['exit_code']})" if r["exit_code"] not in (None, 0) else "")
        t.add_row(
            r["container"],
            str(r["replica"] or ""),
            state,
            r["health"] or "-",
            r["image"] or "",
            ", ".join(r["ports"]) or "-",
            "yes" if r["up_to_date"] else f"no ({r['pending']})",
        )
    console(color=color).print(t)
