"""Scheduled service invocation, the invoked side: an `email-service` app with one method, `POST /send`.

The report scheduler reaches it by app id through Dapr service invocation; it never needs its address. The
"email" lands in an outbox directory (`REPORT_OUTBOX`, default /tmp/daprjobs-report-outbox); the answer names
the file.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import pathlib

from aiohttp import web

OUTBOX = pathlib.Path(os.environ.get("REPORT_OUTBOX", "/tmp/daprjobs-report-outbox"))


def write_report(path: pathlib.Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def send(request: web.Request) -> web.Response:
    message = await request.json()
    report = message["report"]
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    path = OUTBOX / f"report-{stamp}.eml"
    text = (f"To: {message['to']}\nSubject: Sales report {report['day']} ({report['region']})\n\n"
            f"{json.dumps(report, indent=2)}\n")
    await asyncio.to_thread(write_report, path, text)
    caller = request.headers.get("dapr-caller-app-id", "?")
    print(f"email sent to {message['to']} for {caller} [{path.name}]", flush=True)
    return web.json_response({"file": path.name})


async def main() -> None:
    app = web.Application()
    app.router.add_post("/send", send)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ.get("APP_PORT", "6005"))).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
