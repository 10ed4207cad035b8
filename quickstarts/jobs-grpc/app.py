"""Jobs quickstart, gRPC: a `dapr.ext.grpc` app that schedules a nightly backup and a one-shot backup,
and handles both when the sidecar delivers them.

    daprjobs run --app-id jobs-grpc --app-port 6002 --app-protocol grpc --resources-path . \
        -- python quickstarts/jobs-grpc/app.py [--demo]

Without --demo the nightly backup runs at 02:00 and the app serves until Ctrl-C.
With --demo the "nightly" backup runs every 2 seconds, twice, and the app exits once it has seen every job.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

from dapr.clients import DaprClient
from dapr.clients.grpc._jobs import ConstantFailurePolicy, Job
from dapr.ext.grpc import App, JobEvent
from google.protobuf.any_pb2 import Any as GrpcAny

app = App()
received: list[str] = []
done = threading.Event()
expected = 0


def payload(obj: dict[str, object]) -> GrpcAny:
    # As in the Dapr Python examples: raw JSON bytes, no type URL.
    data = GrpcAny()
    data.value = json.dumps(obj).encode()
    return data


def run_backup(event: JobEvent) -> None:
    details = json.loads(event.data.decode()) if event.data else {}
    print(f"job delivered: {event.name} -> backing up database {details.get('db')!r} "
          f"to {details.get('target')!r}", flush=True)
    received.append(event.name)
    if expected and len(received) >= expected:
        done.set()


@app.job_event("nightly-backup")
def nightly_backup(event: JobEvent) -> None:
    run_backup(event)


@app.job_event("backup-now")
def backup_now(event: JobEvent) -> None:
    run_backup(event)


def schedule(demo: bool) -> None:
    with DaprClient() as client:
        nightly = Job(
            name="nightly-backup",
            schedule="@every 2s" if demo else "0 0 2 * * *",  # seconds-first cron: 02:00:00 every day
            repeats=2 if demo else None,
            data=payload({"db": "orders", "target": "s3://backups/nightly"}),
            failure_policy=ConstantFailurePolicy(max_retries=3, interval_seconds=5),
        )
        client.schedule_job(nightly, overwrite=True)
        print(f"job scheduled: nightly-backup ({nightly.schedule})", flush=True)
        client.schedule_job(Job(name="backup-now", due_time="2s",
                                data=payload({"db": "orders", "target": "s3://backups/adhoc"})), overwrite=True)
        print("job scheduled: backup-now (one shot, in 2s)", flush=True)
        stored = client.get_job("nightly-backup")
        print(f"job stored: {stored.name} schedule={stored.schedule!r} repeats={stored.repeats}", flush=True)


def main() -> None:
    global expected
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="fast schedule; exit once every job was delivered")
    args = parser.parse_args()
    demo = args.demo or os.environ.get("DEMO") == "1"
    expected = 3 if demo else 0  # two nightly-backup runs + one backup-now
    port = int(os.environ.get("APP_PORT", "6002"))

    server = threading.Thread(target=app.run, args=(port,), daemon=True)
    server.start()
    schedule(demo)
    if not demo:
        server.join()
        return
    if not done.wait(timeout=60):
        print(f"demo: only {len(received)} of {expected} deliveries arrived", flush=True)
        app.stop()
        raise SystemExit(1)
    time.sleep(0.5)  # let the last acknowledgement reach the sidecar
    with DaprClient() as client:
        client.delete_job("nightly-backup")
    print(f"demo complete: {len(received)} jobs delivered", flush=True)
    app.stop()


if __name__ == "__main__":
    main()
