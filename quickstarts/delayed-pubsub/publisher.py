"""Delayed pub/sub quickstart, publisher: a `dapr.ext.grpc` app that publishes two messages for later.

1. At start it publishes a "reminder" with publish metadata `scheduledSendTime` (RFC3339, 3 s from now):
   the sidecar holds it as a scheduler job and publishes it at that time.
2. It schedules the job `send-digest` (due in 2 s); the job's callback publishes the "digest" with the relative
   form `scheduledSendDelay` ("2s").

Each message carries the time before which it must not arrive (`notBefore`), so the subscriber can check it.
"""

from __future__ import annotations

import datetime
import json
import os
import threading

from dapr.clients import DaprClient
from dapr.clients.grpc._jobs import Job
from dapr.ext.grpc import App, JobEvent

PUBSUB, TOPIC = "pubsub", "notifications"
app = App()


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def publish_later(client: DaprClient, what: str, metadata: dict[str, str], not_before: datetime.datetime) -> None:
    body = {"what": what, "notBefore": rfc3339(not_before)}
    client.publish_event(PUBSUB, TOPIC, json.dumps(body), data_content_type="application/json",
                         publish_metadata=metadata)
    print(f"published for later: {what} (not before {body['notBefore']})", flush=True)


@app.job_event("send-digest")
def send_digest(event: JobEvent) -> None:
    print(f"job delivered: {event.name}", flush=True)
    with DaprClient() as client:
        not_before = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=2)
        publish_later(client, "digest", {"scheduledSendDelay": "2s"}, not_before)


def start() -> None:
    with DaprClient() as client:
        at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=3)
        publish_later(client, "reminder", {"scheduledSendTime": rfc3339(at)}, at)
        client.schedule_job(Job(name="send-digest", due_time="2s"), overwrite=True)
        print("scheduled job: send-digest (due in 2s)", flush=True)


if __name__ == "__main__":
    threading.Thread(target=start, daemon=True).start()
    app.run(int(os.environ.get("APP_PORT", "6011")), "127.0.0.1")
