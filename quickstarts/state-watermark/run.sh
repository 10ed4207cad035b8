#!/usr/bin/env bash
# The state-watermark quickstart in one command. `./run.sh --demo` runs the app twice (3 batches each) on the same
# etcd, so the second run shows it resuming from the watermark the first one saved.
# Ports can be moved with APP_PORT, DAPR_HTTP_PORT, DAPR_GRPC_PORT, METRICS_PORT (0 = off); etcd data with DAPRJOBS_ETCD_DATA_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ -x "$root/.venv/bin/daprjobs" ]; then bin="$root/.venv/bin/"; else bin=""; fi
run() {
    "${bin}daprjobs" run --app-id state-watermark --app-port "${APP_PORT:-6005}" --app-protocol http \
        --dapr-http-port "${DAPR_HTTP_PORT:-3500}" --dapr-grpc-port "${DAPR_GRPC_PORT:-50001}" \
        --metrics-port "${METRICS_PORT:-9090}" --resources-path "$root" \
        --etcd-data-dir "${DAPRJOBS_ETCD_DATA_DIR:-$root/.daprjobs/etcd}" \
        -- "${bin}python" "$here/app.py" "$@"
}
if [ "${1:-}" = "--demo" ]; then
    echo "== first run"
    run "$@"
    echo "== second run (a restart)"
fi
run "$@"
