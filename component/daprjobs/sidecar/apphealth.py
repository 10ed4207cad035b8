"""Is the app answering? The sidecar opens job streams only while it is (daprd StartApp/StopApp).

The probe is a TCP connect to ``app_host:app_port``: it works for HTTP and gRPC apps alike and answers
as soon as the app's server listens. ``threshold`` consecutive failures make the app unhealthy; one
success makes it healthy. A delivery that cannot reach the app asks for an immediate ``recheck``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

_DOWN_PROBE_INTERVAL_S = 1.0


@dataclass
class HealthState:
    """Consecutive-failure threshold; ``observe`` returns the new state when it changes, else None."""

    threshold: int = 2
    healthy: bool = False
    failures: int = 0

    def observe(self, ok: bool) -> bool | None:
        if ok:
            self.failures = 0
            if not self.healthy:
                self.healthy = True
                return True
            return None
        self.failures += 1
        if self.healthy and self.failures >= self.threshold:
            self.healthy = False
            return False
        return None

    def force_unhealthy(self) -> bool | None:
        self.failures = max(self.failures, self.threshold)
        if self.healthy:
            self.healthy = False
            return False
        return None


async def tcp_probe(host: str, port: int, timeout_s: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class AppHealthMonitor:
    """Probes the app port every ``interval_s``; calls ``on_change(healthy)`` on each transition."""

    def __init__(
        self,
        host: str,
        port: int,
        on_change: Callable[[bool], None],
        *,
        interval_s: float = 1.0,
        threshold: int = 2,
        probe_timeout_s: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self._on_change = on_change
        self.interval_s = interval_s
        self.probe_timeout_s = probe_timeout_s
        self._state = HealthState(threshold=threshold)
        self._task: asyncio.Task[None] | None = None
        self._ever_healthy = asyncio.Event()

    @property
    def healthy(self) -> bool:
        return self._state.healthy

    async def wait_healthy(self) -> None:
        """Return once the app has answered at least once."""
        await self._ever_healthy.wait()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="app-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _apply(self, change: bool | None) -> None:
        if change is None:
            return
        if change:
            self._ever_healthy.set()
            log.info("app is healthy host=%s port=%d", self.host, self.port)
        else:
            log.warning("app is unhealthy (port not answering) host=%s port=%d", self.host, self.port)
        try:
            self._on_change(change)
        except Exception:
            log.exception("app health listener failed")

    async def _loop(self) -> None:
        while True:
            try:
                ok = await tcp_probe(self.host, self.port, self.probe_timeout_s)
                self._apply(self._state.observe(ok))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("app health probe failed host=%s port=%d", self.host, self.port)
            # While the app is down, look again soon: its jobs are waiting for it.
            await asyncio.sleep(self.interval_s if self.healthy else min(self.interval_s, _DOWN_PROBE_INTERVAL_S))

    async def recheck(self) -> bool:
        """Probe now; a failure marks the app unhealthy at once (a delivery just failed to reach it)."""
        ok = await tcp_probe(self.host, self.port, self.probe_timeout_s)
        self._apply(self._state.observe(True) if ok else self._state.force_unhealthy())
        return ok
