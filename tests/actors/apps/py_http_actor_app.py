"""A Python FastAPI actor app on the official SDK (dapr.ext.fastapi.DaprActor), used by the actor tests.

It appends one JSON line per thing it sees to $ACTOR_EVENTS_FILE. A reminder whose name starts with
``cancel`` is ended by the app on its second fire with the ``X-DaprReminderCancel: true`` header (the SDK has no
API for that header, so a small middleware adds it, as an app would).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import timedelta
from typing import Any

import uvicorn
from dapr.actor import Actor, ActorInterface, ActorProxy, Remindable, actormethod
from dapr.actor.runtime.config import ActorReentrancyConfig, ActorRuntimeConfig
from dapr.actor.runtime.runtime import ActorRuntime
from dapr.ext.fastapi import DaprActor
from fastapi import FastAPI, Request

EVENTS = os.environ["ACTOR_EVENTS_FILE"]
ACTOR_TYPE = os.environ.get("ACTOR_TYPE", "DemoActor")
CANCEL: set[tuple[str, str]] = set()
FIRES: dict[tuple[str, str], int] = {}


def record(kind: str, **fields: Any) -> None:
    line = json.dumps({"kind": kind, "pid": os.getpid(), "t": time.time(), **fields})
    with open(EVENTS, "a") as f:
        f.write(line + "\n")


class DemoActorInterface(ActorInterface):
    @actormethod(name="SetValue")
    async def set_value(self, value: object) -> None: ...

    @actormethod(name="GetValue")
    async def get_value(self) -> object: ...

    @actormethod(name="RegisterReminder")
    async def register(self, spec: dict) -> None: ...

    @actormethod(name="RegisterRawReminder")
    async def register_raw(self, spec: dict) -> None: ...

    @actormethod(name="UnregisterReminder")
    async def unregister(self, name: str) -> None: ...

    @actormethod(name="StartTimer")
    async def start_timer(self, spec: dict) -> None: ...

    @actormethod(name="StopTimer")
    async def stop_timer(self, name: str) -> None: ...

    @actormethod(name="Whoami")
    async def whoami(self) -> dict: ...

    @actormethod(name="Fail")
    async def fail(self) -> None: ...

    @actormethod(name="Slow")
    async def slow(self, tag: str) -> None: ...

    @actormethod(name="CallSelf")
    async def call_self(self, depth: int) -> dict: ...


class DemoActor(Actor, DemoActorInterface, Remindable):
    async def _on_activate(self) -> None:
        record("activate", actor=self.id.id)

    async def _on_deactivate(self) -> None:
        record("deactivate", actor=self.id.id)

    async def set_value(self, value: object) -> None:
        await self._state_manager.set_state("value", value)
        await self._state_manager.save_state()

    async def get_value(self) -> object:
        found, value = await self._state_manager.try_get_state("value")
        return value if found else None

    async def register(self, spec: dict) -> None:
        period = spec.get("period")
        await self.register_reminder(
            spec["name"],
            spec["state"].encode(),
            timedelta(seconds=spec.get("due", 0)),
            timedelta(seconds=period) if period else None,
        )

    async def register_raw(self, spec: dict) -> None:
        # The SDK's own HTTP client with a body it would not build itself (an ISO period such as R3/PT1S).
        body = spec["body"].encode()
        client = self._runtime_ctx.dapr_client
        await client.register_reminder(self._runtime_ctx.actor_type_info.type_name, self.id.id, spec["name"], body)

    async def unregister(self, name: str) -> None:
        await self.unregister_reminder(name)

    async def receive_reminder(
        self, name: str, state: bytes, due_time: timedelta, period: timedelta, ttl: Any = None
    ) -> None:
        key = (self.id.id, name)
        FIRES[key] = FIRES.get(key, 0) + 1
        record("reminder", actor=self.id.id, name=name, state=state.decode(), n=FIRES[key])
        if name.startswith("cancel") and FIRES[key] >= 2:
            CANCEL.add(key)

    async def start_timer(self, spec: dict) -> None:
        await self.register_timer(
            spec["name"], self.on_timer, spec["state"], timedelta(seconds=spec.get("due", 0)),
            timedelta(seconds=spec["period"]),
        )

    async def stop_timer(self, name: str) -> None:
        await self.unregister_timer(name)

    async def on_timer(self, state: object) -> None:
        record("timer", actor=self.id.id, state=state)

    async def whoami(self) -> dict:
        return {"pid": os.getpid(), "app": os.environ.get("APP_NAME", "")}

    async def fail(self) -> None:
        raise RuntimeError("this actor method always fails")

    async def slow(self, tag: str) -> None:
        record("slow-start", actor=self.id.id, tag=tag)
        await asyncio.sleep(1)
        record("slow-end", actor=self.id.id, tag=tag)

    async def call_self(self, depth: int) -> dict:
        # A call back into this same actor through the sidecar: only reentrancy lets it in during this turn.
        if depth <= 0:
            return await self.whoami()
        proxy = ActorProxy.create(ACTOR_TYPE, self.id, DemoActorInterface)
        return dict(await proxy.CallSelf(depth - 1))


DemoActor.__name__ = ACTOR_TYPE  # the actor type is the class name
app = FastAPI(title="daprjobs actor test app")
actor = DaprActor(app)
idle = os.environ.get("ACTOR_IDLE_TIMEOUT_S")
reentrancy = ActorReentrancyConfig(enabled=True, maxStackDepth=4) if os.environ.get("ACTOR_REENTRANCY") else None
ActorRuntime.set_actor_config(
    ActorRuntimeConfig(
        actor_idle_timeout=timedelta(seconds=float(idle)) if idle else timedelta(hours=1), reentrancy=reentrancy
    )
)


@app.middleware("http")
async def reminder_cancel_header(request: Request, call_next: Any) -> Any:
    response = await call_next(request)
    parts = request.url.path.strip("/").split("/")
    # /actors/{type}/{id}/method/remind/{name}
    if len(parts) == 6 and parts[0] == "actors" and parts[3:5] == ["method", "remind"]:
        if (parts[2], parts[5]) in CANCEL:
            response.headers["X-DaprReminderCancel"] = "true"
    return response


@app.on_event("startup")
async def startup() -> None:
    await actor.register_actor(DemoActor)
    record("started", app=os.environ.get("APP_NAME", ""))


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["APP_PORT"]), log_level="warning")
