"""A sidecar and a scheduler over mutual TLS with the token, end to end: the Jobs API on the sidecar's TLS gRPC API,
host discovery, unary calls and a trigger delivered to an HTTP app over the job stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from aiohttp import web
from dapr.proto.runtime.v1 import dapr_pb2
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler.server import SchedulerReplica
from daprjobs.security.link import SchedulerLinkSecurity
from daprjobs.security.tls import ClientTls, ServerTls
from daprjobs.sidecar.assembly import jobs_only
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.server import Sidecar
from google.protobuf import message_factory

from tests.security.conftest import Pki
from tests.support.inprocess import scheduler_config, unique_prefix
from tests.support.waiting import eventually

TOKEN = "link-token-5e2b"
METHODS = dapr_pb2.DESCRIPTOR.services_by_name["Dapr"].methods_by_name


def message(method: str, **fields: object) -> object:
    return message_factory.GetMessageClass(METHODS[method].input_type)(**fields)


@dataclass
class Link:
    replica: SchedulerReplica
    sidecar: Sidecar
    delivered: list[str]


@pytest.fixture
async def start_link(module_etcd: EtcdProcess, pki: Pki) -> AsyncIterator[object]:
    parts: list[object] = []

    async def start(link_security: SchedulerLinkSecurity) -> Link:
        tls = ServerTls(pki.scheduler.cert, pki.scheduler.key, client_ca_file=pki.ca)
        replica = SchedulerReplica(scheduler_config(module_etcd.endpoint, unique_prefix(), free_port(), tls=tls,
                                                    api_token=TOKEN))
        parts.append(replica)
        await replica.start()
        delivered: list[str] = []

        async def on_job(request: web.Request) -> web.Response:
            delivered.append(request.match_info["name"])
            return web.Response()

        app = web.Application()
        app.router.add_post("/job/{name}", on_job)
        runner = web.AppRunner(app)
        await runner.setup()
        app_port = free_port()
        await web.TCPSite(runner, "127.0.0.1", app_port).start()
        parts.append(runner)
        config = SidecarConfig(app_id="tls-app", app_port=app_port, dapr_http_port=free_port(),
                               dapr_grpc_port=free_port(), scheduler_host_addresses=[replica.address],
                               metrics_port=None, scheduler_link=link_security,
                               grpc_tls=ServerTls(pki.sidecar.cert, pki.sidecar.key))
        sidecar = Sidecar(config, blocks=jobs_only)
        parts.append(sidecar)
        await sidecar.start()
        return Link(replica, sidecar, delivered)

    yield start
    for part in reversed(parts):
        if isinstance(part, web.AppRunner):
            await part.cleanup()
        else:
            await part.stop()  # type: ignore[attr-defined]


def sidecar_channel(link: Link, pki: Pki) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
    return grpc.aio.secure_channel(f"127.0.0.1:{link.sidecar.grpc_port}", credentials)


async def schedule(channel: grpc.aio.Channel, name: str, due_time: str = "0s", timeout: float = 15) -> None:
    job_class: Any = message_factory.GetMessageClass(
        METHODS["ScheduleJobAlpha1"].input_type.fields_by_name["job"].message_type)  # type: ignore[arg-type]
    job = job_class(name=name, due_time=due_time)
    await channel.unary_unary("/dapr.proto.runtime.v1.Dapr/ScheduleJobAlpha1",
                              request_serializer=lambda m: m.SerializeToString())(
        message("ScheduleJobAlpha1", job=job), timeout=timeout)


async def test_jobs_over_mutual_tls_with_the_token(start_link: object, pki: Pki) -> None:
    security = SchedulerLinkSecurity(ClientTls(pki.ca, pki.sidecar.cert, pki.sidecar.key), token=TOKEN)
    link = await start_link(security)  # type: ignore[operator]
    async with sidecar_channel(link, pki) as channel:
        await schedule(channel, "over-tls")
    await eventually(lambda: link.delivered == ["over-tls"], timeout=20, what="the trigger reached the app")
    assert link.sidecar.scheduler.connected_addresses == [link.replica.address]


async def test_a_plaintext_client_cannot_use_the_sidecars_tls_api(start_link: object, pki: Pki) -> None:
    security = SchedulerLinkSecurity(ClientTls(pki.ca, pki.sidecar.cert, pki.sidecar.key), token=TOKEN)
    link = await start_link(security)  # type: ignore[operator]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{link.sidecar.grpc_port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await schedule(channel, "plaintext")
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_sidecar_with_the_wrong_token_stores_nothing(start_link: object, pki: Pki) -> None:
    security = SchedulerLinkSecurity(ClientTls(pki.ca, pki.sidecar.cert, pki.sidecar.key), token=TOKEN + "-wrong")
    link = await start_link(security)  # type: ignore[operator]
    async with sidecar_channel(link, pki) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            # WatchHosts is refused, so no host is ever learned: the call fails with the refusal, not a timeout.
            await schedule(channel, "refused", due_time="1h", timeout=20)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "the scheduler refused this sidecar" in (err.value.details() or "")
    jobs = [kv async for _rev, kvs in link.replica.store.range_prefix(link.replica.keys.jobs_prefix) for kv in kvs]
    assert jobs == []
