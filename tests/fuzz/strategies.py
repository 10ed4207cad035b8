"""Hypothesis strategies for the fuzzers: names, JSON, job bodies and Job messages, daprd's and beyond."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.conftest import GUARD_APP_ID, GUARD_NAMESPACE, GUARD_PREFIX

# Unicode without lone surrogates (not encodable as UTF-8, so never on the wire).
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
names = st.one_of(text, st.sampled_from(["", " ", "a/b", "..", "%2F", "||", "job\x00x", "é", "x" * 300])).filter(
    lambda n: not n.startswith(GUARD_PREFIX))
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
schedules = st.one_of(text, st.sampled_from([
    "@every 1s", "@every 1ns", "@every -1s", "@every 0s", "@daily", "@yearly", "0 0 0 30 2 *", "* * * * * *",
    "*/5 * * * *", "0 0 0 1 1 * 2099", "R5/PT1S", "PT1S", "@every 1000000h", "60 * * * * *",
]))
times = st.one_of(text, st.sampled_from([
    "1s", "-1s", "0s", "2099-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2024-13-45T25:61:61Z", "R2/PT1S", "P1Y",
    "1000000000h", "0.5s", "1e3s", "",
]))
failure_policies = st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "drop": json_values, "constant": st.fixed_dictionaries({}, optional={
        "interval": times, "maxRetries": st.one_of(st.integers(min_value=-5, max_value=2**40), json_values)})}))
job_objects = st.fixed_dictionaries({}, optional={
    "schedule": st.one_of(schedules, json_values), "dueTime": st.one_of(times, json_values),
    "repeats": st.one_of(st.integers(min_value=-(2**40), max_value=2**40), json_values),
    "ttl": st.one_of(times, json_values), "data": json_values, "overwrite": st.one_of(st.booleans(), json_values),
    "failurePolicy": failure_policies, "name": names,
})
http_bodies = st.one_of(
    job_objects.map(json.dumps), json_values.map(json.dumps), st.binary(max_size=300).map(
        lambda b: b.decode("latin-1")),
    st.integers(min_value=1, max_value=300).map(lambda depth: "[" * depth + "]" * depth),
)
content_types = st.sampled_from(["application/json", "text/plain", "", "application/x-www-form-urlencoded",
                                 "application/json; charset=utf-16", "application/cloudevents+json"])
# Never the guarded app's identity: the fuzzer's requests may legitimately delete what they name.
app_ids = st.one_of(text, st.sampled_from(["fuzz-app", "", "other-app"])).filter(lambda a: a != GUARD_APP_ID)
namespaces = st.one_of(text, st.sampled_from(["default", "", "other"])).filter(lambda n: n != GUARD_NAMESPACE)
