"""``/v1.0/state`` over real sockets, on state.etcd and state.redis, with daprd's status codes and bodies."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.sidecar.server import Sidecar

from .conftest import STORES


def base(car: Sidecar) -> str:
    return f"http://127.0.0.1:{car.http_port}/v1.0"


async def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
               raw: bytes | None = None) -> tuple[int, bytes, Any]:
    async with aiohttp.ClientSession() as session:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        async with session.request(method, url, data=data, headers=headers) as resp:
            return resp.status, await resp.read(), resp.headers


@pytest.mark.parametrize("store", STORES)
async def test_save_get_delete_with_etags(sidecar: Sidecar, store: str) -> None:
    key = f"k-{uuid.uuid4().hex[:6]}"
    url = f"{base(sidecar)}/state/{store}"
    status, _, _ = await call("POST", url, [{"key": key, "value": {"b": 2, "a": [1, "x"]}}])
    assert status == 204
    status, body, headers = await call("GET", f"{url}/{key}")
    assert status == 200 and json.loads(body) == {"a": [1, "x"], "b": 2}
    etag = headers["ETag"]
    # A stale ETag: 409 and nothing changes.
    await call("POST", url, [{"key": key, "value": "second"}])
    status, body, _ = await call("POST", url, [{"key": key, "value": "third", "etag": etag}])
    assert status == 409 and json.loads(body)["errorCode"] == "ERR_STATE_SAVE"
    assert "possible etag mismatch" in json.loads(body)["message"]
    status, body, headers = await call("GET", f"{url}/{key}")
    assert json.loads(body) == "second"
    # Delete with a wrong If-Match: 409; with the right one: 204, then GET is 204.
    status, body, _ = await call("DELETE", f"{url}/{key}", headers={"If-Match": etag})
    assert status == 409 and json.loads(body)["errorCode"] == "ERR_STATE_DELETE"
    status, _, _ = await call("DELETE", f"{url}/{key}", headers={"If-Match": headers["ETag"]})
    assert status == 204
    status, body, _ = await call("GET", f"{url}/{key}")
    assert status == 204 and body == b""
    status, body, _ = await call("POST", url, [{"key": key, "value": 1, "etag": "not-a-number"}])
    assert status == 400 and json.loads(body)["errorCode"] == "ERR_STATE_SAVE"


@pytest.mark.parametrize("store", STORES)
async def test_bulk_get_and_transaction(sidecar: Sidecar, store: str) -> None:
    tag = uuid.uuid4().hex[:6]
    url = f"{base(sidecar)}/state/{store}"
    keys = [f"{tag}-{i}" for i in range(50)]
    assert (await call("POST", url, [{"key": k, "value": {"i": i}} for i, k in enumerate(keys)]))[0] == 204
    status, body, _ = await call("POST", f"{url}/bulk", {"keys": [*keys, f"{tag}-missing"], "parallelism": 4})
    items = json.loads(body)
    assert status == 200 and len(items) == 51
    assert items[7]["key"] == keys[7] and items[7]["data"] == {"i": 7} and items[7]["etag"]
    assert items[50] == {"key": f"{tag}-missing"}
    txn = {"operations": [{"operation": "upsert", "request": {"key": keys[0], "value": "new"}},
                          {"operation": "delete", "request": {"key": keys[1]}},
                          {"operation": "upsert", "request": {"key": keys[2], "value": "no", "etag": "99999"}}]}
    status, body, _ = await call("POST", f"{url}/transaction", txn)
    assert status == 500 and json.loads(body)["errorCode"] == "ERR_STATE_TRANSACTION"
    assert json.loads((await call("GET", f"{url}/{keys[0]}"))[1]) == {"i": 0}  # nothing of it applied
    assert (await call("GET", f"{url}/{keys[1]}"))[0] == 200
    txn["operations"].pop()
    assert (await call("PUT", f"{url}/transaction", txn))[0] == 204
    assert json.loads((await call("GET", f"{url}/{keys[0]}"))[1]) == "new"
    assert (await call("GET", f"{url}/{keys[1]}"))[0] == 204


async def test_ttl_metadata_query_params_and_response_headers(sidecar: Sidecar) -> None:
    url = f"{base(sidecar)}/state/statestore"
    await call("POST", f"{url}?metadata.ttlInSeconds=100", [{"key": "ttl-key", "value": 1}])
    status, _, headers = await call("GET", f"{url}/ttl-key")
    assert status == 200 and "metadata.ttlExpireTime" in headers


async def test_key_prefix_layouts_in_redis(sidecar: Sidecar, module_redis: RedisServerProcess) -> None:
    await call("POST", f"{base(sidecar)}/state/redisstore", [{"key": "layout", "value": {"v": 1}}])
    client = aioredis.Redis(host=module_redis.host, port=module_redis.port)
    try:
        stored = await client.hgetall("stateapp||layout")
    finally:
        await client.aclose()
    assert stored[b"data"] == b'{"v":1}' and stored[b"version"] == b"1"


async def test_errors_with_daprd_codes_and_nothing_stored(sidecar: Sidecar) -> None:
    url = f"{base(sidecar)}/state"
    status, body, _ = await call("POST", f"{url}/nostore", [{"key": "a", "value": 1}])
    error = json.loads(body)
    assert status == 400 and error["errorCode"] == "ERR_STATE_STORE_NOT_FOUND"
    assert error["message"] == "state store nostore is not found"
    assert error["details"][0]["reason"] == "DAPR_STATE_NOT_FOUND"
    assert error["details"][0]["metadata"] == {"appID": "stateapp"}
    status, body, _ = await call("POST", f"{url}/statestore", [{"key": "", "value": 1}, {"key": "ok", "value": 1}])
    assert status == 400 and json.loads(body) == {"errorCode": "ERR_MALFORMED_REQUEST",
                                                  "message": '"key" is a required field'}
    assert (await call("GET", f"{url}/statestore/ok"))[0] == 204
    status, body, _ = await call("POST", f"{url}/statestore", [{"key": "a||b", "value": 1}])
    error = json.loads(body)
    assert status == 400 and error["errorCode"] == "ERR_MALFORMED_REQUEST"
    assert error["details"][0]["reason"] == "DAPR_STATE_ILLEGAL_KEY"
    status, body, _ = await call("POST", f"{url}/statestore", raw=b'{"key": "x"')
    assert status == 400 and json.loads(body)["errorCode"] == "ERR_MALFORMED_REQUEST"
    status, body, _ = await call("POST", f"{url}/statestore", raw=b"x" * (sidecar.config.max_body_size + 10))
    assert status == 400
    status, body, _ = await call("POST", f"{url}/statestore/transaction",
                                 {"operations": [{"operation": "upsert", "request": {"key": "t1", "value": 1}},
                                                 {"operation": "merge", "request": {"key": "t2"}}]})
    assert status == 400 and json.loads(body)["errorCode"] == "ERR_NOT_SUPPORTED_STATE_OPERATION"
    status, body, _ = await call("POST", f"{url}/statestore/transaction", {"operations": "nope"})
    assert status == 400 and json.loads(body)["errorCode"] == "ERR_MALFORMED_REQUEST"
    assert (await call("GET", f"{url}/statestore/t1"))[0] == 204
    ops = [{"operation": "upsert", "request": {"key": f"m{i}", "value": i}} for i in range(4)]
    status, body, _ = await call("POST", f"{url}/limited/transaction", {"operations": ops})
    error = json.loads(body)
    assert status == 400 and error["errorCode"] == "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS"
    assert error["details"][0]["metadata"] == {"currentOpsTransaction": "4", "maxOpsPerTransaction": "3"}
    assert (await call("GET", f"{url}/limited/m0"))[0] == 204
    status, body, _ = await call("POST", f"{base(sidecar).replace('v1.0', 'v1.0-alpha1')}/state/statestore/query",
                                 {"filter": {}})
    error = json.loads(body)
    assert status == 500 and error["errorCode"] == "ERR_STATE_STORE_NOT_SUPPORTED"
    assert error["message"] == "state store does not support querying"


async def test_metadata_lists_each_store_once_with_capabilities(sidecar: Sidecar) -> None:
    status, body, _ = await call("GET", f"{base(sidecar)}/metadata")
    components = {c["name"]: c for c in json.loads(body)["components"]}
    assert status == 200 and len(json.loads(body)["components"]) == 3
    assert components["statestore"]["capabilities"] == ["ETAG", "TRANSACTIONAL", "TTL", "ACTOR"]
    assert components["redisstore"]["capabilities"] == ["ETAG", "TRANSACTIONAL", "TTL"]
