"""Which headers travel with an invocation, both ways, and how they become gRPC metadata (daprd's rules).

Request headers are copied (multi-values kept) except ``content-length``, ``content-type`` (carried apart),
keys ending ``-bin``, ``destination-app-id``, hop-by-hop headers (and any named in ``Connection``), the routing
header ``dapr-app-id`` and the caller's ``dapr-api-token`` (a token is for one sidecar, never forwarded).
daprd then sets ``dapr-caller-app-id``, ``dapr-caller-namespace`` and ``dapr-callee-app-id`` and, for calls to
another sidecar, ``X-Forwarded-For``, ``X-Forwarded-Host`` and ``Forwarded``.
"""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[str, str]]

API_TOKEN_HEADER = "dapr-api-token"
APP_ID_HEADER = "dapr-app-id"
CALLER_APP_ID = "dapr-caller-app-id"
CALLER_NAMESPACE = "dapr-caller-namespace"
CALLEE_APP_ID = "dapr-callee-app-id"
HTTP_STATUS_HEADER = "dapr-http-status"

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings", "te",
    "trailer", "proxy-authorization", "proxy-authenticate",
})
_NEVER_FORWARDED = frozenset({
    "content-length", "content-type", "destination-app-id", "host", APP_ID_HEADER, API_TOKEN_HEADER,
    CALLER_APP_ID, CALLER_NAMESPACE, CALLEE_APP_ID,
})
# Go's permanent HTTP header names: daprd prefixes them with ``dapr-`` when they become gRPC metadata.
_PERMANENT = frozenset({
    "accept", "accept-charset", "accept-language", "accept-ranges", "connection", "keep-alive",
    "proxy-connection", "transfer-encoding", "upgrade", "cache-control", "content-type", "content-length",
    "cookie", "date", "expect", "from", "host", "if-match", "if-modified-since", "if-none-match",
    "if-schedule-tag-match", "if-unmodified-since", "max-forwards", "origin", "pragma", "referer", "via", "warning",
})
_GRPC_RESERVED_PREFIXES = ("grpc-", ":")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def _connection_named(headers: Iterable[tuple[str, str]]) -> set[str]:
    named: set[str] = set()
    for key, value in headers:
        if key.lower() == "connection":
            named.update(token.strip().lower() for token in value.split(",") if token.strip())
    return named


def forwardable(headers: Iterable[tuple[str, str]]) -> Headers:
    """The caller's headers that go on to the target app."""
    items = list(headers)
    named = _connection_named(items)
    result: Headers = []
    for key, value in items:
        lower = key.lower()
        if lower in _NEVER_FORWARDED or lower in HOP_BY_HOP or lower in named or lower.endswith("-bin"):
            continue
        if lower.startswith(_GRPC_RESERVED_PREFIXES):
            # gRPC's own keys (from a gRPC caller) would confuse the next gRPC hop: daprd renames them.
            key = "dapr-" + lower.lstrip(":")
        result.append((key, value))
    return result


def with_caller(headers: Headers, caller_app_id: str, caller_namespace: str, callee_app_id: str) -> Headers:
    """``headers`` plus daprd's caller/callee identity (always overwritten, self-invocation included)."""
    return [*headers, (CALLER_APP_ID, caller_app_id), (CALLER_NAMESPACE, caller_namespace),
            (CALLEE_APP_ID, callee_app_id)]


def with_forwarded(headers: Headers, remote: str, host: str, by: str) -> Headers:
    """``X-Forwarded-For``/``X-Forwarded-Host``/``Forwarded`` for a call that leaves this sidecar."""
    added: Headers = []
    if remote:
        added.append(("X-Forwarded-For", remote))
    if host:
        added.append(("X-Forwarded-Host", host))
    parts = [f"for={remote}" if remote else "", f"by={by}" if by else "", f"host={host}" if host else ""]
    forwarded = ";".join(p for p in parts if p)
    if forwarded:
        added.append(("Forwarded", forwarded))
    return [*headers, *added]


def response_headers(headers: Iterable[tuple[str, str]]) -> Headers:
    """The target app's response headers that go back to the caller (length and type are set apart)."""
    items = list(headers)
    named = _connection_named(items)
    return [
        (key, value) for key, value in items
        if key.lower() not in ("content-length", "content-type") and key.lower() not in HOP_BY_HOP
        and key.lower() not in named and not key.lower().endswith("-bin")
    ]


def to_grpc_metadata(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers as gRPC metadata: lower-case keys; permanent HTTP headers and gRPC's own keys get ``dapr-``;
    keys or values gRPC cannot carry are left out."""
    result: list[tuple[str, str]] = []
    for key, value in headers:
        lower = key.lower()
        if lower == "content-length" or lower.endswith("-bin"):
            continue
        if lower in _PERMANENT or lower.startswith(_GRPC_RESERVED_PREFIXES):
            lower = "dapr-" + lower.lstrip(":")
        if not lower or not set(lower) <= _TOKEN_CHARS:
            continue
        if not value.isascii() or not value.isprintable():
            continue
        result.append((lower, value))
    return result


def from_grpc_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> Headers:
    """gRPC metadata as headers (binary values left out)."""
    return [(k, v) for k, v in (metadata or ()) if isinstance(v, str)]
