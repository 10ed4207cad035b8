"""Delayed pub/sub quickstart, subscriber: a FastAPI app with the Dapr extension, subscribed to `notifications`.

It prints each message with how long after its `notBefore` time it arrived (never before). With
`DELAYED_PUBSUB_DEMO=1` it exits once both messages have arrived, which ends `daprjobs run`.
"""

from __future__ import annotations

import datetime
import os
import threading
from typing import Any

import uvicorn
from dapr.ext.fastapi import DaprApp
from fastapi import FastAPI

app = FastAPI()
dapr_app = DaprApp(app)
received: list[str] = []
early: list[str] = []
DEMO = os.environ.get("DELAYED_PUBSUB_DEMO") == "1"


@dapr_app.subscribe(pubsub="pubsub", topic="notifications")
def on_notification(event: dict[str, Any]) -> dict[str, str]:
    data = event["data"]
    now = datetime.datetime.now(datetime.UTC)
    not_before = datetime.datetime.fromisoformat(data["notBefore"].replace("Z", "+00:00"))
    late_ms = (now - not_before).total_seconds() * 1000
    if late_ms < 0:
        early.append(data["what"])
    print(f"message received: {data['what']} ({late_ms:.0f} ms after its time)", flush=True)
    received.append(data["what"])
    if DEMO and len(received) >= 2:
        verdict = "none early" if not early else f"EARLY: {early}"
        print(f"demo complete: {len(received)} delayed messages received, {verdict}", flush=True)
        # Answer this delivery first, then end the demo (daprjobs run stops when an app exits).
        threading.Timer(0.5, os._exit, [0 if not early else 1]).start()
    return {"status": "SUCCESS"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("APP_PORT", "6012")), log_level="warning")
