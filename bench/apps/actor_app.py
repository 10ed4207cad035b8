"""A FastAPI app hosting one actor type through the official SDK's ``DaprActor``, recording reminder triggers.

Run as its own process: ``python -m bench.apps.actor_app --port P``. ``BenchActor.receive_reminder`` only appends
``(actor id/reminder name, receive time, state bytes)``; the state is ``bench.duedata`` JSON, registered as the
base64 ``data`` string the SDK itself sends, so lateness can be computed. The harness reads progress over plain HTTP
on the same port: ``GET /bench/stats``, ``POST /bench/dump`` (body: file path), ``POST /bench/reset``.
"""

from __future__ import annotations

import argparse
import pathlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import uvicorn
from dapr.actor import Actor, ActorInterface, Remindable, actormethod
from dapr.ext.fastapi import DaprActor
from fastapi import FastAPI, Request

ACTOR_TYPE = "BenchActor"

# (actor id/reminder name, receive time ns, state); appended on the event loop only.
_records: list[tuple[str, int, bytes]] = []


class BenchActorInterface(ActorInterface):
    @actormethod(name="Ping")
    async def ping(self) -> str:
        raise NotImplementedError


class BenchActor(Actor, BenchActorInterface, Remindable):
    async def ping(self) -> str:
        return "pong"

    async def receive_reminder(self, name: str, state: bytes, due_time: timedelta, period: timedelta,
                               ttl: timedelta | None = None) -> None:
        _records.append((f"{self.id.id}/{name}", time.time_ns(), state))


def build_app() -> FastAPI:
    actor: DaprActor

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await actor.register_actor(BenchActor)
        yield

    app = FastAPI(title="daprjobs bench actor app", lifespan=lifespan)
    actor = DaprActor(app)

    @app.get("/bench/stats")
    async def stats() -> dict[str, int]:
        # O(1): polled while reminders arrive.
        return {"count": len(_records), "last_recv_ns": _records[-1][1] if _records else 0}

    @app.post("/bench/dump")
    async def dump(request: Request) -> dict[str, int]:
        path = pathlib.Path((await request.body()).decode())
        lines = [f"{name}\t{recv_ns}\t{data.decode('utf-8', 'replace')}\n" for name, recv_ns, data in _records]
        # Written between bench phases, when blocking the loop for a moment costs nothing measured.
        path.write_text("".join(lines), encoding="utf-8")  # noqa: ASYNC240
        return {"count": len(lines)}

    @app.post("/bench/reset")
    async def reset() -> dict[str, int]:
        _records.clear()
        return {"count": 0}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
