"""Property-based fuzzing of the sidecar's HTTP API (jobs, state, publish, invoke, metadata routes).

Invariants: every request is answered within the bound; no 5xx except daprd's own 5xx errors, each as daprd's JSON
error body; the guarded jobs in etcd are byte-identical afterwards.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import REQUEST_TIMEOUT_S, FuzzStack, fuzz_settings
from tests.fuzz.strategies import app_ids, content_types, http_bodies, names, text

# daprd answers these with 5xx too (wire-compat.md: scheduler failures, unrenderable data, invoke failures,
# a store or broker that is not configured).
DAPRD_5XX_CODES = {
    "DAPR_SCHEDULER_SCHEDULE_JOB", "DAPR_SCHEDULER_GET_JOB", "DAPR_SCHEDULER_DELETE_JOB", "DAPR_SCHEDULER_LIST_JOBS",
    "ERR_INTERNAL", "ERR_DIRECT_INVOKE", "ERR_STATE_STORE_NOT_CONFIGURED", "ERR_PUBSUB_NOT_CONFIGURED",
}


def segment(value: str) -> str:
    return quote(value, safe="")


any_method = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
stores = st.sampled_from(["statestore", "statestore", "missing"])
jobs = st.tuples(st.sampled_from(["POST", "POST", "GET", "DELETE"]), st.sampled_from(["v1.0", "v1.0-alpha1"]),
                 names).map(lambda t: (t[0], f"/{t[1]}/jobs/{segment(t[2])}"))
# (method, path): weighted towards the routes' own methods so requests reach the handlers.
routes = st.one_of(
    jobs, jobs, jobs,
    st.tuples(st.sampled_from(["GET", "DELETE"]), stores, text).map(
        lambda t: (t[0], f"/v1.0/state/{t[1]}/{segment(t[2])}")),
    st.tuples(st.sampled_from(["POST", "PUT"]), stores, st.sampled_from(["", "/bulk", "/transaction"])).map(
        lambda t: (t[0], f"/v1.0/state/{t[1]}{t[2]}")),
    st.tuples(st.sampled_from(["POST", "PUT"]), st.sampled_from(["pubsub", "missing"]), text).map(
        lambda t: (t[0], f"/v1.0/publish/{t[1]}/{segment(t[2])}")),
    st.tuples(any_method, app_ids, text).map(lambda t: (t[0], f"/v1.0/invoke/{segment(t[1])}/method/{segment(t[2])}")),
    st.tuples(st.sampled_from(["GET", "PUT"]), text).map(lambda t: (t[0], f"/v1.0/metadata/{segment(t[1])}")),
    st.tuples(any_method, text).map(lambda t: (t[0], "/" + quote(t[1]))),
)


def request(stack: FuzzStack, method: str, path: str, body: str, content_type: str) -> tuple[int, bytes]:
    """One request on a fresh connection; raises (failing the example) if it is not answered within the bound."""
    conn = http.client.HTTPConnection(*stack.http, timeout=REQUEST_TIMEOUT_S)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        conn.request(method, path, body=body.encode("utf-8", "surrogatepass"), headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assert_daprd_like(method: str, path: str, status: int, payload: bytes) -> None:
    if status < 500:
        return
    try:
        code = json.loads(payload).get("errorCode")
    except (ValueError, AttributeError):
        code = None
    assert code in DAPRD_5XX_CODES, f"{method} {path} -> {status} {payload[:300]!r}"


@fuzz_settings(bounded_examples=150)
@given(route=routes, body=http_bodies, content_type=content_types)
def test_http_requests_get_daprd_statuses_and_stored_jobs_stay(
    fuzz_stack: FuzzStack, route: tuple[str, str], body: str, content_type: str
) -> None:
    method, path = route
    status, payload = request(fuzz_stack, method, path, body, content_type)
    assert_daprd_like(method, path, status, payload)
    fuzz_stack.assert_guarded_jobs_unchanged()
