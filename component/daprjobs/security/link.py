"""How the sidecar dials a scheduler: plaintext or TLS (mutual when it has a certificate), with or without the token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from daprjobs.security.tls import ClientTls
from daprjobs.security.token import token_interceptors


@dataclass(frozen=True)
class SchedulerLinkSecurity:
    tls: ClientTls | None = None
    token: str | None = field(default=None, repr=False)

    def open_channel(self, address: str, options: Sequence[tuple[str, Any]]) -> grpc.aio.Channel:
        interceptors = token_interceptors(self.token) if self.token else None
        if self.tls is None:
            return grpc.aio.insecure_channel(address, options=list(options), interceptors=interceptors)
        channel_options = list(options)
        if self.tls.server_name:
            channel_options.append(("grpc.ssl_target_name_override", self.tls.server_name))
        return grpc.aio.secure_channel(address, self.tls.credentials(), options=channel_options,
                                       interceptors=interceptors)


PLAINTEXT = SchedulerLinkSecurity()
