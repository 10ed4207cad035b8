"""The scheduler on an etcd that demands TLS client certificates and a password (etcd --client-cert-auth + auth)."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from aetcd import rpc
from daprjobs.etcd.embedded import find_etcd_binary, free_port
from daprjobs.etcd.store import EtcdStore
from daprjobs.etcd.tls_client import EtcdClientTls
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerReplica

from tests.scheduler.jobrequests import app_meta
from tests.security.conftest import Pki
from tests.support.inprocess import scheduler_config, unique_prefix
from tests.support.waiting import eventually

ROOT_PASSWORD = "etcd-root-pw-31"


@pytest.fixture
def tls_etcd(tmp_path: pathlib.Path, pki: Pki) -> Iterator[str]:
    port, peer = free_port(), free_port()
    client_url = f"https://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [find_etcd_binary(), "--name", "tls", "--data-dir", str(tmp_path / "etcd"),
         "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
         "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"tls=http://127.0.0.1:{peer}", "--cert-file", str(pki.scheduler.cert),
         "--key-file", str(pki.scheduler.key), "--client-cert-auth", "--trusted-ca-file", str(pki.ca),
         "--log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "etcd.log").open("wb"))
    try:
        yield client_url
    finally:
        proc.terminate()
        proc.wait(10)


def client_tls(pki: Pki) -> EtcdClientTls:
    return EtcdClientTls(pki.ca, pki.sidecar.cert, pki.sidecar.key)


async def enable_auth(endpoint: str, pki: Pki) -> None:
    """Before auth is on, a client with a trusted certificate may do anything: add root and turn auth on."""
    async def healthy() -> bool:
        store = EtcdStore([endpoint], timeout=2, tls=client_tls(pki))
        try:
            await store.get(b"probe")
            return True
        except Exception:
            return False
        finally:
            await store.close()

    await eventually(healthy, timeout=30, what="TLS etcd answers")
    async with grpc.aio.secure_channel(endpoint.removeprefix("https://"), client_tls(pki).credentials()) as channel:
        auth = rpc.AuthStub(channel)
        await auth.UserAdd(rpc.AuthUserAddRequest(name="root", password=ROOT_PASSWORD), timeout=10)
        await auth.UserGrantRole(rpc.AuthUserGrantRoleRequest(user="root", role="root"), timeout=10)
        await auth.AuthEnable(rpc.AuthEnableRequest(), timeout=10)


@pytest.fixture
async def secured_etcd(tls_etcd: str, pki: Pki) -> AsyncIterator[str]:
    await enable_auth(tls_etcd, pki)
    yield tls_etcd


async def test_the_scheduler_runs_on_etcd_with_tls_client_certs_and_a_password(secured_etcd: str, pki: Pki) -> None:
    config = scheduler_config(secured_etcd, unique_prefix(), free_port(), etcd_tls=client_tls(pki),
                              etcd_username="root", etcd_password=ROOT_PASSWORD)
    replica = SchedulerReplica(config)
    await replica.start()
    try:
        async with grpc.aio.insecure_channel(replica.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            job = scheduler_pb2.Job(due_time="1h")
            await stub.ScheduleJob(scheduler_pb2.ScheduleJobRequest(name="on-tls-etcd", job=job,
                                                                    metadata=app_meta("etcd-tls-app")), timeout=10)
            listed = await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=app_meta("etcd-tls-app")), timeout=10)
        assert [j.name for j in listed.jobs] == ["on-tls-etcd"]
    finally:
        await replica.stop()


@pytest.mark.parametrize("case", ["plaintext", "no client certificate", "wrong password"])
async def test_etcd_refuses_clients_without_the_right_credentials(secured_etcd: str, pki: Pki, case: str) -> None:
    stores = {
        "plaintext": EtcdStore([secured_etcd], "root", ROOT_PASSWORD, timeout=2),
        "no client certificate": EtcdStore([secured_etcd], "root", ROOT_PASSWORD, timeout=2,
                                           tls=EtcdClientTls(pki.ca)),
        "wrong password": EtcdStore([secured_etcd], "root", ROOT_PASSWORD + "x", timeout=2, tls=client_tls(pki)),
    }
    store = stores.pop(case)
    try:
        with pytest.raises(Exception):  # noqa: B017 - each layer fails its own way; none may succeed
            await asyncio.wait_for(store.put(b"must-not-exist", b"x"), 10)
    finally:
        await store.close()
    good = EtcdStore([secured_etcd], "root", ROOT_PASSWORD, tls=client_tls(pki))
    try:
        assert await good.get(b"must-not-exist") is None
    finally:
        await good.close()


async def test_a_state_etcd_component_reaches_a_tls_etcd_with_its_pem_metadata(tls_etcd: str, pki: Pki) -> None:
    """``tlsEnable``/``ca``/``cert``/``key`` (PEM text, as Dapr's state.etcd takes them) reach an etcd that demands
    client certificates; the same component without them does not."""
    from daprjobs.components.state.api import SetRequest
    from daprjobs.components.state.registry import open_store
    from daprjobs.sidecar.config import ComponentResource

    endpoint = tls_etcd.removeprefix("https://")
    pems = {"ca": pki.ca.read_text(), "cert": pki.sidecar.cert.read_text(), "key": pki.sidecar.key.read_text()}
    secured = ComponentResource(name="tlsstore", type="state.etcd", version="v2", source=pathlib.Path("t.yaml"),
                                metadata={"endpoints": endpoint, "tlsEnable": "true", **pems})
    store = open_store(secured, [])
    try:
        await store.set(SetRequest(key="app||tls-key", value=b'"over tls"'))
        item = await store.get("app||tls-key")
        assert item is not None and item.data == b'"over tls"'
    finally:
        await store.close()
    plain = open_store(ComponentResource(name="plain", type="state.etcd", version="v2", source=pathlib.Path("t.yaml"),
                                         metadata={"endpoints": endpoint}), [])
    try:
        with pytest.raises(Exception):  # noqa: B017 - any failure: the TLS etcd refuses a plaintext client
            await asyncio.wait_for(plain.get("app||tls-key"), 15)
    finally:
        await plain.close()
