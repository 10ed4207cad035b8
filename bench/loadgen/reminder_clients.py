"""Actor reminders over HTTP: registering them through the sidecar, and firing them straight into the actor app.

``register`` sends what the Python SDK's ``Actor.register_reminder`` sends (``PUT /v1.0/actors/<type>/<id>/reminders/
<name>`` with ``dueTime``, ``period: null`` for a one-shot, and ``data`` as base64 of the state bytes), except that
``dueTime`` is an absolute RFC3339 instant (which daprd accepts too) so every reminder of a batch is due at once.
``direct`` is the ceiling for reminder triggers: the same app called the way a sidecar calls it when a reminder
fires (``PUT /actors/<type>/<id>/method/remind/<name>``), with no scheduler or sidecar in between.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import aiohttp

from bench.duedata import DueData, rfc3339_ns
from bench.loadgen.timing import async_loop


def _state(due_ns: int) -> str:
    return base64.b64encode(DueData(due_ns).encode()).decode()


async def register(args: dict[str, Any]) -> dict[str, Any]:
    count, concurrency = int(args["count"]), int(args.get("concurrency", 24))
    actor_type, id_prefix, name = args["actor_type"], args["id_prefix"], args["name"]
    due_start, spacing = int(args["due_start_ns"]), int(args.get("spacing_ns", 0))
    base = f"http://127.0.0.1:{args['http_port']}/v1.0/actors/{actor_type}/"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def op(i: int) -> None:
            due = due_start + i * spacing
            body = {"reminderName": name, "dueTime": rfc3339_ns(due), "period": None, "data": _state(due)}
            async with session.put(f"{base}{id_prefix}{i}/reminders/{name}", json=body) as resp:
                if resp.status not in (200, 204):
                    raise RuntimeError(f"HTTP {resp.status}: {(await resp.text())[:300]}")

        timings = await async_loop(count, concurrency, op)
    return timings.as_result(concurrency=concurrency)


async def direct(args: dict[str, Any]) -> dict[str, Any]:
    count, concurrency = int(args["count"]), int(args.get("concurrency", 24))
    actor_type, id_prefix, name = args["actor_type"], args["id_prefix"], args["name"]
    base = f"http://127.0.0.1:{args['app_port']}/actors/{actor_type}/"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def op(i: int) -> None:
            body = {"data": _state(time.time_ns()), "dueTime": "", "period": ""}
            async with session.put(f"{base}{id_prefix}{i}/method/remind/{name}", json=body) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}: {(await resp.text())[:300]}")

        timings = await async_loop(count, concurrency, op)
    return timings.as_result(concurrency=concurrency)
