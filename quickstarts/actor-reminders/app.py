"""Actor reminders quickstart: a Python FastAPI actor app (official SDK, ``dapr.ext.fastapi.DaprActor``).

    daprjobs run --app-id thermostats --app-port 6004 --resources-path . \
        -- python quickstarts/actor-reminders/app.py [--demo]

A ``Thermostat`` actor keeps its target temperature in actor state (etcd), takes a reading on a durable
reminder every second (a scheduler job: it survives restarts of the app, the sidecar and the scheduler) and
blinks its LED on an in-memory timer. Without --demo the readings go on until Ctrl-C. With --demo the actor
stops its reminder after 3 readings and the app exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from datetime import timedelta
from typing import Any

import uvicorn
from dapr.actor import Actor, ActorId, ActorInterface, ActorProxy, Remindable, actormethod
from dapr.ext.fastapi import DaprActor
from fastapi import FastAPI

DEMO_READINGS = 3
done = asyncio.Event()
demo = False


class ThermostatInterface(ActorInterface):
    @actormethod(name="SetTarget")
    async def set_target(self, celsius: float) -> None: ...

    @actormethod(name="Start")
    async def start(self) -> None: ...

    @actormethod(name="Status")
    async def status(self) -> dict: ...


class Thermostat(Actor, ThermostatInterface, Remindable):
    async def set_target(self, celsius: float) -> None:
        await self._state_manager.set_state("target", celsius)
        await self._state_manager.save_state()
        print(f"[{self.id}] target set to {celsius} °C (saved in actor state)", flush=True)

    async def start(self) -> None:
        await self._state_manager.set_state("readings", 0)
        # A durable reminder: a scheduler job named actorreminder||default||Thermostat||<id>||reading.
        await self.register_reminder("reading", b'{"sensor": "living-room"}', timedelta(seconds=1),
                                     timedelta(seconds=1))
        # An in-memory timer: lives in this sidecar only.
        await self.register_timer("blink", self.blink, {"color": "green"}, timedelta(seconds=0),
                                  timedelta(seconds=2))
        print(f"[{self.id}] reminder 'reading' (every 1s) and timer 'blink' (every 2s) registered", flush=True)

    async def receive_reminder(
        self, name: str, state: bytes, due_time: timedelta, period: timedelta, ttl: Any = None
    ) -> None:
        readings = await self._state_manager.get_or_add_state("readings", 0) + 1
        await self._state_manager.set_state("readings", readings)
        print(f"[{self.id}] reminder {name!r} fired with {state.decode()} -> reading #{readings}", flush=True)
        if demo and readings >= DEMO_READINGS:
            await self.unregister_reminder("reading")
            await self.unregister_timer("blink")
            print(f"[{self.id}] {readings} readings taken: reminder and timer unregistered", flush=True)
            done.set()

    async def blink(self, state: dict) -> None:
        print(f"[{self.id}] timer: blink {state['color']}", flush=True)

    async def status(self) -> dict:
        return {
            "target": await self._state_manager.get_or_add_state("target", None),
            "readings": await self._state_manager.get_or_add_state("readings", 0),
        }


app = FastAPI(title="thermostats")
actor_host = DaprActor(app)


@app.on_event("startup")
async def register() -> None:
    await actor_host.register_actor(Thermostat)


async def drive(server: uvicorn.Server) -> None:
    """The client side of the demo: call the actor through the sidecar like any other service would."""
    for _ in range(600):  # uvicorn offers no event for "listening"
        if server.started:
            break
        await asyncio.sleep(0.1)
    proxy = ActorProxy.create("Thermostat", ActorId("living-room"), ThermostatInterface)
    for attempt in range(60):
        try:
            await proxy.SetTarget(21.5)
            break
        except Exception as err:  # the sidecar may still be reading /dapr/config
            if attempt == 59:
                raise SystemExit(f"the actor could not be called: {err}") from err
            await asyncio.sleep(0.5)
    await proxy.Start()
    if demo:
        await asyncio.wait_for(done.wait(), timeout=60)
        print(f"status: {json.dumps(await proxy.Status())}", flush=True)
        print("demo complete", flush=True)
        server.should_exit = True


async def main() -> None:
    global demo
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo", action="store_true", help="stop after 3 readings and exit")
    demo = parser.parse_args().demo
    config = uvicorn.Config(app, host="127.0.0.1", port=int(os.environ.get("APP_PORT", "6004")), log_level="warning")
    server = uvicorn.Server(config)
    driver = asyncio.create_task(drive(server))
    await server.serve()
    if driver.done() and driver.exception() is not None:
        raise driver.exception()  # type: ignore[misc]
    driver.cancel()


if __name__ == "__main__":
    asyncio.run(main())
