"""Actor reminder callbacks carry the stable ``daprjobs-trigger-id`` (the same id job callbacks carry)."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from daprjobs.actors.actor_app_channel import HttpActorChannel
from daprjobs.core.trigger_id import TRIGGER_ID_HEADER, trigger_id
from daprjobs.etcd.embedded import free_port


async def test_reminder_call_carries_the_trigger_id_and_none_without_one() -> None:
    seen: list[str | None] = []

    async def remind(request: web.Request) -> web.Response:
        seen.append(request.headers.get(TRIGGER_ID_HEADER))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_put("/actors/{type}/{id}/method/remind/{name}", remind)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    tid = trigger_id("actorreminder||default||T||1||tick", 1_700_000_000_000_000_000)
    try:
        async with aiohttp.ClientSession() as session:
            channel = HttpActorChannel(session, f"http://127.0.0.1:{port}", "app")
            assert (await channel.remind("T", "1", "tick", None, tid)).status == 200
            assert (await channel.remind("T", "1", "tick", None)).status == 200
    finally:
        await runner.cleanup()
    assert seen == [tid, None]
    assert tid == "actorreminder%7C%7Cdefault%7C%7CT%7C%7C1%7C%7Ctick@2023-11-14T22:13:20Z"
