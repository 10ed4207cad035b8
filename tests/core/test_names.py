"""Stored job names, metadata prefixes and the name checks of go-etcd-cron and daprd."""

from __future__ import annotations

import pytest
from daprjobs.core.names import (
    SEP,
    InvalidJobName,
    UnknownJobTarget,
    full_name,
    go_quote,
    job_name,
    key_from_metadata,
    prefix_from_metadata,
    reminder_name,
    user_name,
    validate_actor_name,
    validate_job_name,
    validate_name_prefix,
)
from daprjobs.proto.scheduler.v1 import scheduler_pb2 as pb

DNS_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def app_meta(ns: str = "default", app: str = "myapp") -> pb.JobMetadata:
    return pb.JobMetadata(app_id=app, namespace=ns, target=pb.JobTargetMetadata(job=pb.TargetJob()))


def actor_meta(ns: str = "default", typ: str = "Cart", actor_id: str = "") -> pb.JobMetadata:
    return pb.JobMetadata(
        app_id="host",
        namespace=ns,
        target=pb.JobTargetMetadata(actor=pb.TargetActorReminder(type=typ, id=actor_id)),
    )


def test_name_builders() -> None:
    assert SEP == "||"
    assert job_name("default", "myapp", "job1") == "app||default||myapp||job1"
    assert reminder_name("default", "Cart", "c1", "r1") == "actorreminder||default||Cart||c1||r1"


def test_prefix_and_full_name() -> None:
    assert prefix_from_metadata(app_meta()) == "app||default||myapp||"
    assert prefix_from_metadata(actor_meta(actor_id="c1")) == "actorreminder||default||Cart||c1||"
    # The app id is not part of a reminder's name.
    assert full_name("r1", actor_meta(actor_id="c1")) == reminder_name("default", "Cart", "c1", "r1")
    assert full_name("j", app_meta()) == job_name("default", "myapp", "j")


def test_key_from_metadata() -> None:
    assert key_from_metadata(app_meta(), as_prefix=False) == "app||default||myapp||"
    assert key_from_metadata(app_meta(), as_prefix=True) == "app||default||myapp"
    assert key_from_metadata(actor_meta(), as_prefix=False) == "actorreminder||default||Cart||"
    assert key_from_metadata(actor_meta(), as_prefix=True) == "actorreminder||default||Cart"
    assert key_from_metadata(actor_meta(actor_id="c1"), as_prefix=False) == "actorreminder||default||Cart||c1||"
    assert key_from_metadata(actor_meta(actor_id="c1"), as_prefix=True) == "actorreminder||default||Cart||c1"


def test_missing_target_is_an_unknown_job_type() -> None:
    with pytest.raises(UnknownJobTarget, match=r"^unknown job type: <nil>$"):
        prefix_from_metadata(pb.JobMetadata(app_id="a", namespace="n"))
    with pytest.raises(UnknownJobTarget, match=r"^unknown job type: $"):
        key_from_metadata(pb.JobMetadata(app_id="a", namespace="n", target=pb.JobTargetMetadata()), False)


@pytest.mark.parametrize(
    ("full", "meta", "expected"),
    [
        ("app||default||myapp||job1", app_meta(), "job1"),
        ("app||default||myapp||a||b", app_meta(), "a||b"),  # names may contain the separator
        ("app||default||myapp||", app_meta(), ""),
        ("app||default||other||job1", app_meta(), None),
        ("app||other||myapp||job1", app_meta(), None),
        ("actorreminder||default||Cart||c1||r1", actor_meta(actor_id="c1"), "r1"),
        # An actor id containing "||" still resolves, because the prefix comes from the metadata.
        ("actorreminder||default||Cart||c||1||r1", actor_meta(actor_id="c||1"), "r1"),
        ("actorreminder||default||Cart||c1||r1", actor_meta(actor_id="c2"), None),
        ("actorreminder||default||Cart||c1||r1", app_meta(), None),
        ("app||default||myapp||j", pb.JobMetadata(app_id="myapp", namespace="default"), None),
    ],
)
def test_user_name(full: str, meta: pb.JobMetadata, expected: str | None) -> None:
    assert user_name(full, meta) == expected


# --- go-etcd-cron validator -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "valid",
        "fo.o",
        "foo||foo",
        "foo.bar||foo",
        "foo.BAR||foo",
        "foo.BAR_f-oo||foo",
        "app||default||myapp||My Job_1:2",
        "actorreminder||dapr-tests||dapr.internal.dapr-tests.perf-workflowsapp.workflow"
        "||24b3fbad-0db5-4e81-a272-71f6018a66a6||start-4NYDFil-",
        "aABVCD||dapr-::123:123||dapr.internal.perf-  workflowsapp.workflow||24b3fbad-0db5-4e81        -a272||x-",
        "-leading-dash-is-stripped",
        "a" * 253,
        "app||" + "b" * 253,
    ],
)
def test_valid_job_names(name: str) -> None:
    validate_job_name(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "job name cannot be empty"),
        ("/", f'job name is invalid "/": {DNS_MSG}'),
        ("foo/", f'job name is invalid "foo/": {DNS_MSG}'),
        (".", f'job name is invalid ".": {DNS_MSG}'),
        ("..", f'job name is invalid "..": {DNS_MSG}'),
        ("fo...o", f'job name is invalid "fo...o": {DNS_MSG}'),
        ("||", f'job name is invalid "||": {DNS_MSG}'),
        ("foo||", f'job name is invalid "foo||": {DNS_MSG}'),
        ("||foo", f'job name is invalid "||foo": {DNS_MSG}'),
        ("_", f'job name is invalid "": {DNS_MSG}'),  # sanitizing empties it
        ("app||ns||id||Job#1", f'job name is invalid "app||ns||id||Job#1": {DNS_MSG}'),
        ("app||ns||id||a?b", f'job name is invalid "app||ns||id||a?b": {DNS_MSG}'),
        ("app||ns||id||a\\b", f'job name is invalid "app||ns||id||a\\\\b": {DNS_MSG}'),
        ("app||ns||id||a\nb", f'job name is invalid "app||ns||id||a\\nb": {DNS_MSG}'),
        ("app||ns||id||a\x00b", f'job name is invalid "app||ns||id||a\\x00b": {DNS_MSG}'),
        ("app||ns||id||é", f'job name is invalid "app||ns||id||é": {DNS_MSG}'),
        ("app||ns||id||a@b", f'job name is invalid "app||ns||id||a@b": {DNS_MSG}'),
        ("app||ns||id||a+b", f'job name is invalid "app||ns||id||a+b": {DNS_MSG}'),
        # The quoted name is sanitized but keeps its case.
        ("App||My_Ns||x/Y", f'job name is invalid "App||MyNs||x/Y": {DNS_MSG}'),
        ("a" * 254, f'job name is invalid "{"a" * 254}": must be no more than 253 characters'),
        ("a" * 600 + "/", f'job name is invalid "{"a" * 600}/": must be no more than 253 characters, {DNS_MSG}'),
    ],
)
def test_invalid_job_names(name: str, message: str) -> None:
    with pytest.raises(InvalidJobName) as info:
        validate_job_name(name)
    assert str(info.value) == message


def test_length_limit_applies_per_segment_after_sanitizing() -> None:
    validate_job_name("app||ns||" + "a-" * 200)  # 400 chars, 200 after removing '-'
    with pytest.raises(InvalidJobName):
        validate_job_name("app||ns||" + "a" * 254)


def test_name_prefix() -> None:
    validate_name_prefix("")  # skipped, as DeletePrefixes does
    validate_name_prefix("app||default||myapp||")  # may end in a separator
    validate_name_prefix("actorreminder||default||Cart||c")
    validate_name_prefix("app||default||myapp||-")
    with pytest.raises(InvalidJobName) as info:
        validate_name_prefix("app||default||myapp||x/")
    assert str(info.value) == f'job name is invalid "app||default||myapp||x/a": {DNS_MSG}'


# --- daprd method.ValidateName --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["r1", "my reminder", "a.b", "...", "名前", "a||b", "a-b_c:d", "x" * 1000])
def test_valid_actor_names(name: str) -> None:
    validate_actor_name(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a/b", 'name contains forbidden character: "a/b"'),
        ("a\\b", 'name contains forbidden character: "a\\\\b"'),
        ("a#b", 'name contains forbidden character: "a#b"'),
        ("a?b", 'name contains forbidden character: "a?b"'),
        ("a\x00b", 'name contains forbidden character: "a\\x00b"'),
        ("a\nb", 'name contains control character at position 1: "a\\nb"'),
        ("ab\x7f", 'name contains control character at position 2: "ab\\x7f"'),
        ("é\x01", 'name contains control character at position 2: "é\\x01"'),  # byte offsets, as Go
        (".", 'name is a path traversal sequence: "."'),
        ("..", 'name is a path traversal sequence: ".."'),
    ],
)
def test_invalid_actor_names(name: str, message: str) -> None:
    with pytest.raises(InvalidJobName) as info:
        validate_actor_name(name)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("s", "quoted"),
    [
        ("abc", '"abc"'),
        ('a"b', '"a\\"b"'),
        ("a\tb", '"a\\tb"'),
        ("\x1b", '"\\x1b"'),
        ("\u00a0", '"\\u00a0"'),
        ("日本", '"日本"'),
        ("\U0001f600", '"\U0001f600"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_go_quote(s: str, quoted: str) -> None:
    assert go_quote(s) == quoted


def test_length_limit_counts_bytes() -> None:
    # 127 two-byte characters = 254 bytes: too long (and not DNS-1123 either).
    with pytest.raises(InvalidJobName) as info:
        validate_job_name("é" * 127)
    assert "must be no more than 253 characters, " in str(info.value)


def test_lower_casing_is_go_rune_by_rune() -> None:
    # Go lower-cases U+0130 (capital I with dot) to a plain "i"; KELVIN SIGN to "k".
    validate_job_name("app||ns||\u0130d")
    validate_job_name("app||ns||\u212a8s")
    with pytest.raises(InvalidJobName):
        validate_job_name("app||ns||\u00c5")  # lower-cases to a non-ASCII letter
