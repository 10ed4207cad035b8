"""A blocking JSON call to a sidecar's HTTP API, as a user's ``curl`` would make it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def http(method: str, url: str, body: object = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
