"""Serving a test's app on 127.0.0.1: an aiohttp application in the test's event loop, or an unmodified
``dapr.ext.grpc.App`` in a thread (its server blocks). The apps themselves (tests/support/apps.py and each block's
``apps.py``) say only what they serve and record.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import TypeVar

from aiohttp import web
from dapr.ext.grpc import App

T = TypeVar("T")


class LoopbackHttpApp:
    """An aiohttp app on ``127.0.0.1:port``; subclasses set ``port`` and add their routes in ``add_routes``."""

    port: int
    # How long ``stop`` lets requests still in flight finish.
    shutdown_timeout_s: float = 60.0
    _runner: web.AppRunner | None = None

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout_s)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class ThreadedGrpcApp:
    """A ``dapr.ext.grpc.App`` on ``127.0.0.1:port``, served from a daemon thread; subclasses set ``port`` and build
    the app (its handlers) in ``build``."""

    port: int
    _app: App | None = None
    _thread: threading.Thread | None = None

    def build(self) -> App:
        raise NotImplementedError

    def start(self) -> None:
        self._app = self.build()
        self._thread = threading.Thread(target=self._app.run, args=(self.port, "127.0.0.1"), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._app is not None:
            self._app.stop()
            self._app = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


async def next_received(events: queue.Queue[T], timeout: float, what: str) -> T:
    """The next item a threaded app put in ``events``; an AssertionError naming ``what`` after ``timeout``."""
    try:
        return await asyncio.to_thread(events.get, True, timeout)
    except queue.Empty:
        raise AssertionError(f"no {what} within {timeout}s") from None
