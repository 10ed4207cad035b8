"""Scheduled service invocation, the scheduler side: "email the sales report every day at 6 AM".

This app schedules a `daily-sales-report` job with the Python SDK (`DaprClient.schedule_job`). When the job fires,
its `POST /job/daily-sales-report` handler builds the report and has *another app*, `email-service`, send it, by
service invocation (`DaprClient.invoke_method("email-service", "send", ...)`, through both sidecars). The job's
data (raw JSON in an Any, as the SDK examples do) arrives as the request body.

Started with the email service by one command: `daprjobs run -f dapr.yaml` (see run.sh). Without --demo the report
goes out at 06:00 every day. With --demo it goes out every 2 seconds, twice, and the app exits.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random

from aiohttp import web
from dapr.aio.clients import DaprClient
from dapr.clients.grpc._jobs import ConstantFailurePolicy, Job
from google.protobuf.any_pb2 import Any as GrpcAny

EMAIL_APP_ID = "email-service"


def build_report(region: str) -> dict[str, object]:
    """Stand-in for the real query: yesterday's sales for the region."""
    day = datetime.date.today() - datetime.timedelta(days=1)
    orders = [round(random.uniform(10, 500), 2) for _ in range(random.randint(5, 15))]
    return {"region": region, "day": day.isoformat(), "orders": len(orders), "revenue": round(sum(orders), 2)}


class ReportService:
    def __init__(self, client: DaprClient, expected: int) -> None:
        self.client = client
        self.expected = expected
        self.sent = 0
        self.done = asyncio.Event()

    async def on_job(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name != "daily-sales-report":
            return web.Response(status=404)  # not ours: 404 tells Dapr not to retry
        settings = json.loads(await request.read())
        report = build_report(settings["region"])
        # Service invocation: the email service is another app, reached through its sidecar by its app id. A
        # failure raises, the handler answers 500 and the job is retried per its failure policy.
        answer = await self.client.invoke_method(EMAIL_APP_ID, "send", http_verb="POST",
                                                 data=json.dumps({"to": settings["to"], "report": report}),
                                                 content_type="application/json")
        self.sent += 1
        print(f"job delivered: {name} -> report for {report['day']} sent to {settings['to']} by {EMAIL_APP_ID} "
              f"({report['orders']} orders, revenue {report['revenue']}) [{json.loads(answer.data)['file']}]",
              flush=True)
        if self.expected and self.sent >= self.expected:
            self.done.set()
        return web.Response(status=200)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="send every 2 seconds, twice, then exit")
    args = parser.parse_args()
    demo = args.demo or os.environ.get("DEMO") == "1"
    client = DaprClient()
    service = ReportService(client, expected=2 if demo else 0)

    app = web.Application()
    app.router.add_post("/job/{name}", service.on_job)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ.get("APP_PORT", "6004"))).start()

    settings = GrpcAny()
    settings.value = json.dumps({"region": "emea", "to": "sales-team@example.com"}).encode()
    job = Job(
        name="daily-sales-report",
        schedule="@every 2s" if demo else "0 0 6 * * *",  # seconds-first cron: 06:00:00 every day
        repeats=2 if demo else None,
        data=settings,
        failure_policy=ConstantFailurePolicy(max_retries=5, interval_seconds=60),
    )
    async with client:
        await client.schedule_job(job, overwrite=True)
        print(f"job scheduled: daily-sales-report ({job.schedule})", flush=True)
        if not demo:
            await asyncio.Event().wait()
        try:
            await asyncio.wait_for(service.done.wait(), timeout=60)
        except TimeoutError:
            raise SystemExit(f"demo: only {service.sent} of {service.expected} reports were sent") from None
    print(f"demo complete: {service.sent} reports emailed", flush=True)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
