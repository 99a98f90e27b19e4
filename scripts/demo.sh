#!/usr/bin/env bash
# The main job, as the README's first command runs it (after `make venv engine`):
# apply examples/quickstart.yaml, show the result, and fetch the page it serves on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
spec=examples/quickstart.yaml
$bin/reconciler validate "$spec"
