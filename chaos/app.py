"""The job app: ``POST /job/<name>`` answered 200, each call recorded with its receive time and trigger id. It runs
in the chaos runner's own process so "app down" is a stop and a restart on the same port."""

from __future__ import annotations

import time

from aiohttp import web
from daprjobs.core.trigger_id import TRIGGER_ID_HEADER

from chaos.ledger import Delivery, Ledger


class JobApp:
    def __init__(self, port: int, ledger: Ledger) -> None:
        self.port = port
        self._ledger = ledger
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/job/{name}", self._on_job)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_job(self, request: web.Request) -> web.Response:
        received = time.time_ns()
        await request.read()
        self._ledger.deliveries.append(Delivery(request.match_info["name"], received,
                                                request.headers.get(TRIGGER_ID_HEADER)))
        return web.Response(status=200)
