"""A Python actor app hosted over the gRPC stream (dapr 1.19 ``ActorGrpcHost``), used by the actor tests.

No HTTP at all: the host dials the sidecar's gRPC port, registers its types on ``SubscribeActorEventsAlpha1``
and makes its outbound calls (reminders, timers, state) with the unary actor RPCs. Events go to
$ACTOR_EVENTS_FILE as JSON lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import timedelta
from typing import Any

from dapr.actor import Actor, ActorInterface, Remindable, actormethod
from dapr.actor.runtime.grpc_host import ActorGrpcHost

EVENTS = os.environ["ACTOR_EVENTS_FILE"]


def record(kind: str, **fields: Any) -> None:
    with open(EVENTS, "a") as f:
        f.write(json.dumps({"kind": kind, "pid": os.getpid(), "t": time.time(), **fields}) + "\n")


class StreamActorInterface(ActorInterface):
    @actormethod(name="RegisterReminder")
    async def register(self, spec: dict) -> None: ...

    @actormethod(name="StartTimer")
    async def start_timer(self, spec: dict) -> None: ...

    @actormethod(name="SetValue")
    async def set_value(self, value: object) -> None: ...

    @actormethod(name="GetValue")
    async def get_value(self) -> object: ...


class StreamActor(Actor, StreamActorInterface, Remindable):
    async def _on_activate(self) -> None:
        record("activate", actor=self.id.id)

    async def _on_deactivate(self) -> None:
        record("deactivate", actor=self.id.id)

    async def register(self, spec: dict) -> None:
        period = spec.get("period")
        await self.register_reminder(
            spec["name"], spec["state"].encode(), timedelta(seconds=spec.get("due", 0)),
            timedelta(seconds=period) if period else None,
        )

    async def receive_reminder(
        self, name: str, state: bytes, due_time: timedelta, period: timedelta, ttl: Any = None
    ) -> None:
        record("reminder", actor=self.id.id, name=name, state=state.decode())

    async def start_timer(self, spec: dict) -> None:
        await self.register_timer(
            spec["name"], self.on_timer, spec["state"], timedelta(seconds=spec.get("due", 0)),
            timedelta(seconds=spec["period"]),
        )

    async def on_timer(self, state: object) -> None:
        record("timer", actor=self.id.id, state=state)
        await self.unregister_timer("tick")

    async def set_value(self, value: object) -> None:
        await self._state_manager.set_state("value", value)
        await self._state_manager.save_state()

    async def get_value(self) -> object:
        found, value = await self._state_manager.try_get_state("value")
        return value if found else None


async def main() -> None:
    host = ActorGrpcHost()
    await host.register_actor(StreamActor)
    await host.start()
    record("started")
    try:
        await asyncio.Event().wait()
    finally:
        await host.close()


if __name__ == "__main__":
    asyncio.run(main())
