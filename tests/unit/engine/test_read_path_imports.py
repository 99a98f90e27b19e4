"""The read path (the plan, status and validate command modules, the engine adapter and its
observe) imports neither the Docker SDK nor requests (nor rich or jsonschema): they are
imported only when a mutation, a stream or an invalid spec's message needs them (issue 14).
Nor `dataclasses`: the record types are msgspec Structs (docs/architecture.md), and one
dataclass on the read path would bring back `inspect` and the per-class code generation."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("docker", "requests", "urllib3", "rich", "jsonschema", "http.client", "dataclasses")

PROBE = f"""
import sys
import reconciler.commands.plan, reconciler.commands.status, reconciler.commands.validate
import reconciler.commands.apply
import reconciler.engine.client, reconciler.engine.rawhttp, reconciler.engine.endpoint
from reconciler.engine import Engine
Engine.observe  # the method exists on the adapter, nothing more to import for it
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_importing_the_read_path_imports_no_sdk_requests_rich_or_jsonschema():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
