"""The scheduler's gRPC API: the shared token, TLS and mutual TLS, on a real replica and real etcd."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerReplica
from daprjobs.security.link import SchedulerLinkSecurity
from daprjobs.security.tls import ClientTls, ServerTls
from daprjobs.security.token import TOKEN_METADATA_KEY
from daprjobs.sidecar.schedulerlink.channels import CHANNEL_OPTIONS

from tests.scheduler.jobrequests import app_meta
from tests.security.conftest import Pki
from tests.support.inprocess import scheduler_config, unique_prefix

TOKEN = "t0ken-for-tests"
StartReplica = Callable[..., Awaitable[SchedulerReplica]]


@pytest.fixture
async def start_replica(module_etcd: EtcdProcess) -> AsyncIterator[StartReplica]:
    started: list[SchedulerReplica] = []

    async def start(**overrides: Any) -> SchedulerReplica:
        replica = SchedulerReplica(scheduler_config(module_etcd.endpoint, unique_prefix(), free_port(), **overrides))
        started.append(replica)
        await replica.start()
        return replica

    yield start
    for replica in started:
        await replica.stop()


async def list_jobs(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> int:
    resp = await scheduler_pb2_grpc.SchedulerStub(channel).ListJobs(
        scheduler_pb2.ListJobsRequest(metadata=app_meta("auth-app")), metadata=metadata, timeout=5)
    return len(resp.jobs)


async def status_of(call: Awaitable[object]) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def test_without_a_configured_token_any_caller_is_served(start_replica: StartReplica) -> None:
    """As Dapr's scheduler without mTLS: a real daprd, which sends no token, must keep working."""
    replica = await start_replica()
    async with grpc.aio.insecure_channel(replica.address) as channel:
        assert await list_jobs(channel) == 0


async def test_a_call_without_or_with_a_wrong_token_is_unauthenticated(start_replica: StartReplica) -> None:
    replica = await start_replica(api_token=TOKEN)
    async with grpc.aio.insecure_channel(replica.address) as channel:
        assert await status_of(list_jobs(channel)) == grpc.StatusCode.UNAUTHENTICATED
        wrong = ((TOKEN_METADATA_KEY, TOKEN + "x"),)
        assert await status_of(list_jobs(channel, wrong)) == grpc.StatusCode.UNAUTHENTICATED
        assert await list_jobs(channel, ((TOKEN_METADATA_KEY, TOKEN),)) == 0


async def test_streams_without_the_token_are_refused_too(start_replica: StartReplica) -> None:
    replica = await start_replica(api_token=TOKEN)
    async with grpc.aio.insecure_channel(replica.address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        hosts = stub.WatchHosts(scheduler_pb2.WatchHostsRequest(), timeout=5)
        assert await status_of(hosts.read()) == grpc.StatusCode.UNAUTHENTICATED
        jobs = stub.WatchJobs(timeout=5)
        initial = scheduler_pb2.WatchJobsRequest(initial=scheduler_pb2.WatchJobsRequestInitial(
            app_id="auth-app", namespace="default", accept_job_types=[scheduler_pb2.JOB_TARGET_TYPE_JOB]))
        await jobs.write(initial)
        assert await status_of(jobs.read()) == grpc.StatusCode.UNAUTHENTICATED


async def test_the_sidecar_link_sends_the_token_on_unary_and_streaming_calls(start_replica: StartReplica) -> None:
    replica = await start_replica(api_token=TOKEN)
    channel = SchedulerLinkSecurity(token=TOKEN).open_channel(replica.address, CHANNEL_OPTIONS)
    async with channel:
        assert await list_jobs(channel) == 0
        hosts = scheduler_pb2_grpc.SchedulerStub(channel).WatchHosts(scheduler_pb2.WatchHostsRequest(), timeout=5)
        first = await hosts.read()
        assert [h.address for h in first.hosts] == [replica.address]
        hosts.cancel()


async def test_mutual_tls_with_the_token(start_replica: StartReplica, pki: Pki) -> None:
    tls = ServerTls(pki.scheduler.cert, pki.scheduler.key, client_ca_file=pki.ca)
    replica = await start_replica(tls=tls, api_token=TOKEN)
    good = SchedulerLinkSecurity(ClientTls(pki.ca, pki.sidecar.cert, pki.sidecar.key), token=TOKEN)
    async with good.open_channel(replica.address, CHANNEL_OPTIONS) as channel:
        assert await list_jobs(channel) == 0
    no_token = SchedulerLinkSecurity(ClientTls(pki.ca, pki.sidecar.cert, pki.sidecar.key))
    async with no_token.open_channel(replica.address, CHANNEL_OPTIONS) as channel:
        assert await status_of(list_jobs(channel)) == grpc.StatusCode.UNAUTHENTICATED


async def test_mutual_tls_refuses_plaintext_certless_and_foreign_clients(start_replica: StartReplica, pki: Pki) -> None:
    replica = await start_replica(tls=ServerTls(pki.scheduler.cert, pki.scheduler.key, client_ca_file=pki.ca))
    async with grpc.aio.insecure_channel(replica.address) as channel:
        assert await status_of(list_jobs(channel)) == grpc.StatusCode.UNAVAILABLE
    no_cert = SchedulerLinkSecurity(ClientTls(pki.ca))
    async with no_cert.open_channel(replica.address, CHANNEL_OPTIONS) as channel:
        assert await status_of(list_jobs(channel)) == grpc.StatusCode.UNAVAILABLE
    foreign = SchedulerLinkSecurity(ClientTls(pki.ca, pki.rogue.cert, pki.rogue.key))
    async with foreign.open_channel(replica.address, CHANNEL_OPTIONS) as channel:
        assert await status_of(list_jobs(channel)) == grpc.StatusCode.UNAVAILABLE


async def test_the_sidecar_verifies_the_schedulers_certificate(start_replica: StartReplica, pki: Pki) -> None:
    """Server-only TLS: the client must trust the scheduler's CA and the name it dials must be in the certificate."""
    replica = await start_replica(tls=ServerTls(pki.scheduler.cert, pki.scheduler.key))
    async with SchedulerLinkSecurity(ClientTls(pki.ca)).open_channel(replica.address, CHANNEL_OPTIONS) as channel:
        assert await list_jobs(channel) == 0
    async with SchedulerLinkSecurity(ClientTls(pki.rogue_ca)).open_channel(replica.address, CHANNEL_OPTIONS) as ch:
        assert await status_of(list_jobs(ch)) == grpc.StatusCode.UNAVAILABLE
    wrong_name = SchedulerLinkSecurity(ClientTls(pki.ca, server_name="scheduler.elsewhere.example"))
    async with wrong_name.open_channel(replica.address, CHANNEL_OPTIONS) as channel:
        assert await status_of(list_jobs(channel)) == grpc.StatusCode.UNAVAILABLE
    named = SchedulerLinkSecurity(ClientTls(pki.ca, server_name="localhost"))
    async with named.open_channel(replica.address, CHANNEL_OPTIONS) as channel:
        assert await list_jobs(channel) == 0
