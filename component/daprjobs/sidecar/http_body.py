"""HTTP request bodies and error responses shared by every block's routes (daprd's limits and shapes)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from daprjobs.sidecar.errors import KitError, LegacyApiError, body_read_error

JSON = "application/json"
_READ_CHUNK = 64 * 1024
# A client that sends its body slower than this (or declares more than it sends) is cut off.
BODY_READ_TIMEOUT_S = 30.0


def error_response(err: KitError | LegacyApiError) -> web.Response:
    return web.Response(status=err.http_status, body=err.http_body(), content_type=JSON)


async def read_body_limited(request: web.Request, limit: int) -> bytes:
    """The whole body, or daprd's 400 ERR_BODY_READ "stream too large" past ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise body_read_error("stream too large")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_S):
            while True:
                chunk = await request.content.read(_READ_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise body_read_error("stream too large")
                chunks.append(chunk)
    except TimeoutError:
        if request.transport is not None:
            request.transport.close()
        raise body_read_error(f"no complete body within {BODY_READ_TIMEOUT_S:.0f}s") from None
    return b"".join(chunks)
