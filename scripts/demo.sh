#!/usr/bin/env bash
# The main job, as the README's first command runs it (after `make venv engine`):
# apply examples/quickstart.yaml, show the result, and fetch the page it serves on 127.0.0.1.
# Safe to run again: the second time there is nothing to change.
#   DEMO_SPEC=examples/other.yaml bash scripts/demo.sh   # another spec (first published port)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
spec=${DEMO_SPEC:-examples/quickstart.yaml}

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' off=$'\033[0m'; else bold='' off=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$off"; }
run() { step "reconciler $*"; "$bin/reconciler" "$@"; }

run validate "$spec"
run plan "$spec"
run apply "$spec"
run status "$spec"

# The page: find the published port in `status -o json`, then poll it with a deadline.
"$bin/reconciler" status "$spec" -o json | "$bin/python" -c '
import json, re, sys, time, urllib.request

rows = json.load(sys.stdin)["containers"]
ports = [p for r in rows for p in r["ports"] if re.match(r"127\.0\.0\.1:\d+->", p)]
if not ports:
    sys.exit("demo: the spec publishes no port on 127.0.0.1")
url = "http://127.0.0.1:%s/" % ports[0].split("->")[0].rsplit(":", 1)[1]
print("\n$ fetch " + url, flush=True)
deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            sys.stdout.write(response.read().decode("utf-8", "replace"))
            break
    except OSError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"demo: {url} did not answer within 30 s ({exc})")
        time.sleep(0.2)
'

run apply "$spec"
printf '\nThe demo keeps running; remove it with: %s/reconciler destroy %s\n' "$bin" "$spec"
