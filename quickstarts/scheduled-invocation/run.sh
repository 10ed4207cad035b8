#!/usr/bin/env bash
# The scheduled-invocation quickstart in one command: two apps from one multi-app run file. `./run.sh --demo`
# finishes by itself. Ports can be moved with APP_PORT, DAPR_HTTP_PORT, DAPR_GRPC_PORT (the scheduler app and its
# sidecar) and EMAIL_APP_PORT, EMAIL_DAPR_HTTP_PORT, EMAIL_DAPR_GRPC_PORT (the email service and its sidecar; default:
# the next port after each of the first three), METRICS_PORT (0 = off); etcd data with DAPRJOBS_ETCD_DATA_DIR. The run file written here is dapr.yaml with those ports.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ -x "$root/.venv/bin/daprjobs" ]; then bin="$root/.venv/bin/"; else bin=""; fi
app_port="${APP_PORT:-6004}"; http_port="${DAPR_HTTP_PORT:-3500}"; grpc_port="${DAPR_GRPC_PORT:-50001}"
email_app_port="${EMAIL_APP_PORT:-$((app_port + 1))}"; email_http_port="${EMAIL_DAPR_HTTP_PORT:-$((http_port + 1))}"
email_grpc_port="${EMAIL_DAPR_GRPC_PORT:-$((grpc_port + 1))}"
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
    appPort: $email_app_port
    daprHTTPPort: $email_http_port
    daprGRPCPort: $email_grpc_port
    command: ["${bin}python", "email_service.py"]
YAML
"${bin}daprjobs" run -f "$run_file" --etcd-data-dir "${DAPRJOBS_ETCD_DATA_DIR:-$root/.daprjobs/etcd}"
