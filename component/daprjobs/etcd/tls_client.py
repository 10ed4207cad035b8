"""An etcd client over TLS (aetcd 1.0 dials plaintext only).

Flags follow etcdctl's (``--cacert``, ``--cert``, ``--key``) with the scheduler's ``--etcd-`` prefix. Without a CA
file the system's roots verify etcd; a client certificate is presented when given (etcd's
``--client-cert-auth``). Username/password authentication (etcd's ``Authenticate``) works with or without TLS.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import aetcd
import grpc
from aetcd import rpc, watcher

from daprjobs.security.tls import TlsConfigError, read_pem


@dataclass(frozen=True)
class EtcdClientTls:
    """TLS material as files (the scheduler's flags) or as PEM text (a ``state.etcd`` component's ``ca``, ``cert``,
    ``key`` metadata, as Dapr's component takes it)."""

    ca_file: pathlib.Path | None = None
    cert_file: pathlib.Path | None = None
    key_file: pathlib.Path | None = None
    ca_pem: bytes | None = field(default=None, repr=False)
    cert_pem: bytes | None = field(default=None, repr=False)
    key_pem: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise TlsConfigError("--etcd-cert and --etcd-key must be given together")
        if (self.cert_pem is None) != (self.key_pem is None):
            raise TlsConfigError("an etcd client certificate (cert) and its key (key) must be given together")

    def credentials(self) -> grpc.ChannelCredentials:
        roots = read_pem(self.ca_file, "--etcd-cacert") if self.ca_file else self.ca_pem
        cert = read_pem(self.cert_file, "--etcd-cert") if self.cert_file else self.cert_pem
        key = read_pem(self.key_file, "--etcd-key") if self.key_file else self.key_pem
        return grpc.ssl_channel_credentials(root_certificates=roots, private_key=key, certificate_chain=cert)


class TlsEtcdClient(aetcd.Client):  # type: ignore[misc]
    """``aetcd.Client`` whose channel is a TLS one; everything after the dial is aetcd's."""

    def __init__(self, tls: EtcdClientTls, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tls = tls

    async def connect(self) -> None:
        # Mirrors aetcd.Client.connect (1.0.0) with a secure channel; the store calls it under its own lock.
        if self._connected.is_set():
            return
        self.channel = rpc.secure_channel(f"{self._host}:{self._port}", self._tls.credentials(),
                                          options=list(self._options.items()))
        try:
            if self._username is not None and self._password is not None:
                self.auth_stub = rpc.AuthStub(self.channel)
                resp = await self.auth_stub.Authenticate(
                    rpc.AuthenticateRequest(name=self._username, password=self._password), timeout=self._timeout)
                self.metadata = (("token", resp.token),)
        except BaseException:
            await self.channel.close()
            self._init_channel_attrs()
            raise
        self.kvstub = rpc.KVStub(self.channel)
        self.clusterstub = rpc.ClusterStub(self.channel)
        self.leasestub = rpc.LeaseStub(self.channel)
        self.maintenancestub = rpc.MaintenanceStub(self.channel)
        self._watcher = watcher.Watcher(rpc.WatchStub(self.channel), timeout=self._timeout, metadata=self.metadata)
        self._connected.set()


def etcd_client(tls: EtcdClientTls | None, **kwargs: Any) -> aetcd.Client:
    """A plaintext ``aetcd.Client`` or, with ``tls``, a ``TlsEtcdClient``; ``kwargs`` are aetcd's."""
    if tls is None:
        return aetcd.Client(**kwargs)
    return TlsEtcdClient(tls, **kwargs)
