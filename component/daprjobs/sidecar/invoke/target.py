"""Where an invocation goes: the app id and method from an HTTP request, ``app.namespace`` ids, method checks.

daprd (``pkg/api/http/directmessaging.go`` ``findTargetIDAndMethod``, ``pkg/messaging/method/normalize.go``):
the ``dapr-app-id`` header wins and makes the whole request path the method; then Basic auth with user
``dapr-app-id``; then ``/v1.0/invoke/<id>/method/<method>`` (id URL-unescaped, method everything after the first
``/method/``, cleaned). Methods with ``#``, ``?``, NUL or control characters are refused; ``..`` is resolved.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Mapping

import grpc

from daprjobs.sidecar.invoke.headers import APP_ID_HEADER
from daprjobs.sidecar.invoke.model import InvokeFailure

_INVOKE_PREFIX = re.compile(r"^/*v1\.0/+invoke/+")
_FORBIDDEN = re.compile(r"[#?\x00-\x1f\x7f]")


def go_path_clean(path: str) -> str:
    """Go's ``path.Clean``: one slash between elements, ``.`` gone, ``..`` resolved, ``.`` for an empty result."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def normalize_method(method: str) -> str:
    """daprd's NormalizeMethod; InvalidArgument ``invalid method: …`` for what it refuses."""
    bad = _FORBIDDEN.search(method)
    if bad is not None:
        char = bad.group()
        what = "forbidden character" if char in "#?\x00" else f"control character at position {bad.start()}"
        raise InvokeFailure(f"rpc error: code = InvalidArgument desc = invalid method: method contains {what}: "
                            f"{method!r}", grpc.StatusCode.INVALID_ARGUMENT)
    cleaned = go_path_clean(method)
    while cleaned.startswith("../"):
        cleaned = cleaned[3:]
    if cleaned in ("..", "."):
        cleaned = ""
    return cleaned


def _basic_auth_app_id(headers: Mapping[str, str]) -> str:
    auth = headers.get("Authorization", "")
    if not auth.startswith("Basic "):
        return ""
    try:
        decoded = base64.b64decode(auth[len("Basic "):], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    pair = decoded.split(":")
    if len(pair) == 2 and pair[0].lower() == APP_ID_HEADER:
        return pair[1]
    return ""


def routed_by_header(headers: Mapping[str, str]) -> bool:
    """The request names its target in a header (any path then means a method of that app)."""
    return bool(headers.get(APP_ID_HEADER)) or bool(_basic_auth_app_id(headers))


def target_and_method(path: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """(app id, method) of an HTTP request; ``("", "")`` when it names no app. ``path`` is the decoded path."""
    header_id = headers.get(APP_ID_HEADER) or _basic_auth_app_id(headers)
    if header_id:
        return header_id, go_path_clean(path).lstrip("/")
    match = _INVOKE_PREFIX.match(path)
    if match is None:
        return "", ""
    rest = path[match.end():]
    index = rest.find("/method/")
    if index <= 0:
        return "", ""
    target = urllib.parse.unquote(rest[:index]) or rest[:index]
    method = go_path_clean(rest[index + len("/method/"):])
    return target, "" if method == "." else method


def split_app_id(target: str, own_namespace: str) -> tuple[str, str]:
    """``app`` → (app, own namespace); ``app.ns`` → (app, ns); more dots are refused as daprd does."""
    if not target:
        raise InvokeFailure("app id is empty")
    if target.startswith(("http://", "https://")):
        raise InvokeFailure(f"invoking external endpoints ({target}) is not supported by daprjobs",
                            grpc.StatusCode.UNIMPLEMENTED)
    items = target.split(".")
    if len(items) == 1:
        return target, own_namespace
    if len(items) == 2 and all(items):
        return items[0], items[1]
    raise InvokeFailure(f"invalid app id {target}")
