"""The ``ttlExpireTime`` response metadata (contrib's GetRespMetaKeyTTLExpireTime): RFC 3339, UTC, seconds."""

from __future__ import annotations

import datetime

from daprjobs.components.state.api import TTL_EXPIRE_TIME_KEY


def expire_time_metadata(expires_at: float | None) -> dict[str, str]:
    """``{"ttlExpireTime": ...}`` for a value expiring at ``expires_at`` (epoch seconds), else nothing."""
    if expires_at is None:
        return {}
    moment = datetime.datetime.fromtimestamp(int(expires_at), tz=datetime.UTC)
    return {TTL_EXPIRE_TIME_KEY: moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
