#!/usr/bin/env bash
# The scheduled-invocation quickstart in one command: two apps from one multi-app run file. `./run.sh --demo`
# finishes by itself. Ports can be moved with APP_PORT (the scheduler app; the email service takes the next one),
# DAPR_HTTP_PORT, DAPR_GRPC_PORT (the email service's sidecar listens on the next ports), METRICS_PORT (0 = off);
# etcd data with DAPRJOBS_ETCD_DATA_DIR. The run file written here is dapr.yaml with those ports.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ -x "$root/.venv/bin/daprjobs" ]; then bin="$root/.venv/bin/"; else bin=""; fi
app_port="${APP_PORT:-6004}"; http_port="${DAPR_HTTP_PORT:-3500}"; grpc_port="${DAPR_GRPC_PORT:-50001}"
demo=""; if [ "${1:-}" = "--demo" ]; then demo=', "--demo"'; fi
run_file="$(mktemp -d)/dapr.yaml"
trap 'rm -rf "$(dirname "$run_file")"' EXIT
cat > "$run_file" <<YAML
version: 1
common:
  metricsPort: ${METRICS_PORT:-0}
apps:
  - appID: report-scheduler
    appDirPath: $here
    appPort: $app_port
    daprHTTPPort: $http_port
    daprGRPCPort: $grpc_port
    command: ["${bin}python", "report_scheduler.py"$demo]
  - appID: email-service
    appDirPath: $here
    appPort: $((app_port + 1))
    daprHTTPPort: $((http_port + 1))
    daprGRPCPort: $((grpc_port + 1))
    command: ["${bin}python", "email_service.py"]
YAML
"${bin}daprjobs" run -f "$run_file" --etcd-data-dir "${DAPRJOBS_ETCD_DATA_DIR:-$root/.daprjobs/etcd}"
