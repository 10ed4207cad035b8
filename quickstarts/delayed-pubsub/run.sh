#!/usr/bin/env bash
# The delayed pub/sub quickstart in one command: `daprjobs run -f` with a publisher and a subscriber app, the
# embedded etcd, scheduler and redis (the default `pubsub` component). `./run.sh --demo` finishes by itself.
# Ports can be moved with PUBLISHER_PORT, SUBSCRIBER_PORT, REDIS_PORT (0 = free); data with DAPRJOBS_ETCD_DATA_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ -x "$root/.venv/bin/daprjobs" ]; then bin="$root/.venv/bin/"; else bin=""; fi
demo=0
if [ "${1:-}" = "--demo" ]; then demo=1; fi
runfile="$(mktemp -d)/dapr.yaml"
trap 'rm -rf "$(dirname "$runfile")"' EXIT
cat > "$runfile" <<YAML
version: 1
common:
  appDirPath: $here
  env:
    DELAYED_PUBSUB_DEMO: "$demo"
apps:
  - appID: publisher
    appPort: ${PUBLISHER_PORT:-6011}
    appProtocol: grpc
    command: ["${bin}python", "publisher.py"]
  - appID: subscriber
    appPort: ${SUBSCRIBER_PORT:-6012}
    command: ["${bin}python", "subscriber.py"]
YAML
"${bin}daprjobs" run -f "$runfile" --redis-port "${REDIS_PORT:-0}" \
    --etcd-data-dir "${DAPRJOBS_ETCD_DATA_DIR:-$root/.daprjobs/etcd}"
