"""Issue 15 (9): status keeps the identifying columns (CONTAINER, PORTS) whole on a narrow
terminal; UP TO DATE says the action in short and the reason goes to a detail line."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.ui import status

ROW = {
    "container": "shop-frontend-web-1",
    "key": "web",
    "replica": 1,
    "state": "running",
    "health": None,
    "exit_code": None,
    "image": "localhost:5000/shop/frontend:1",
    "ports": ["127.0.0.1:18080->8080/tcp", "127.0.0.1:18443->8443/tcp"],
    "up_to_date": False,
    "action": "replace",
    "pending": 'replace: env.FEATURE_FLAGS: "a,b,c" -> "a,b,c,d", command changed, '
    "image_id changed (the image was rebuilt from a new source)",
}


def test_narrow_terminal_keeps_names_and_ports_whole(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(
        status, "console", lambda color=False: Console(file=out, width=100, no_color=True)
    )
    status.print_containers("shop", [ROW], color=False)
    text = out.getvalue()
    assert "shop-frontend-web-1" in text
    assert "127.0.0.1:18080->8080/tcp" in text and "127.0.0.1:18443->8443/tcp" in text
    assert "no: replace" in text
    assert "shop-frontend-web-1: replace: env.FEATURE_FLAGS" in text.replace("\n  ", " ")
