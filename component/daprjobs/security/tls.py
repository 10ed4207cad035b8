"""TLS material from PEM files, as gRPC credentials.

Files are read once, when a server or channel is set up, so a missing or unreadable file stops the process at
start with the flag's name in the message (never the file's contents).
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import grpc


class TlsConfigError(ValueError):
    """A TLS flag is incomplete or names a file that cannot be read."""


def read_pem(path: pathlib.Path, flag: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN" not in data:
        raise TlsConfigError(f"{flag}: {path} is not a PEM file")
    return data


@dataclass(frozen=True)
class ServerTls:
    """A server's certificate and key; with ``client_ca_file`` clients must present a certificate it signed (mTLS)."""

    cert_file: pathlib.Path
    key_file: pathlib.Path
    client_ca_file: pathlib.Path | None = None
    flag_prefix: str = "--tls"

    def credentials(self) -> grpc.ServerCredentials:
        cert = read_pem(self.cert_file, f"{self.flag_prefix}-cert-file")
        key = read_pem(self.key_file, f"{self.flag_prefix}-key-file")
        roots = read_pem(self.client_ca_file, "--trust-anchors-file") if self.client_ca_file else None
        return grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=roots, require_client_auth=roots is not None)


@dataclass(frozen=True)
class ClientTls:
    """Verify the server with ``ca_file``; present ``cert_file``/``key_file`` when the server asks (mTLS)."""

    ca_file: pathlib.Path
    cert_file: pathlib.Path | None = None
    key_file: pathlib.Path | None = None
    # The name the server's certificate must carry, when the dialled address is not in it.
    server_name: str | None = None
    flag_prefix: str = "--scheduler"

    def credentials(self) -> grpc.ChannelCredentials:
        roots = read_pem(self.ca_file, f"{self.flag_prefix}-trust-anchors-file")
        cert = read_pem(self.cert_file, f"{self.flag_prefix}-tls-cert-file") if self.cert_file else None
        key = read_pem(self.key_file, f"{self.flag_prefix}-tls-key-file") if self.key_file else None
        return grpc.ssl_channel_credentials(root_certificates=roots, private_key=key, certificate_chain=cert)


def server_tls_from_flags(cert: str | None, key: str | None, client_ca: str | None,
                          flag_prefix: str = "--tls") -> ServerTls | None:
    """``ServerTls`` from optional flag values: none set means plaintext; a half-set pair is an error."""
    if not cert and not key:
        if client_ca:
            raise TlsConfigError(f"--trust-anchors-file needs {flag_prefix}-cert-file and {flag_prefix}-key-file")
        return None
    if not cert or not key:
        raise TlsConfigError(f"{flag_prefix}-cert-file and {flag_prefix}-key-file must be given together")
    return ServerTls(pathlib.Path(cert), pathlib.Path(key), pathlib.Path(client_ca) if client_ca else None,
                     flag_prefix)


def client_tls_from_flags(ca: str | None, cert: str | None, key: str | None, server_name: str | None,
                          flag_prefix: str = "--scheduler") -> ClientTls | None:
    """``ClientTls`` from optional flag values: no CA means plaintext (then a certificate alone is an error)."""
    if bool(cert) != bool(key):
        raise TlsConfigError(f"{flag_prefix}-tls-cert-file and {flag_prefix}-tls-key-file must be given together")
    if not ca:
        if cert or server_name:
            raise TlsConfigError(f"TLS to the scheduler needs {flag_prefix}-trust-anchors-file")
        return None
    return ClientTls(pathlib.Path(ca), pathlib.Path(cert) if cert else None, pathlib.Path(key) if key else None,
                     server_name or None, flag_prefix)


def add_port(server: grpc.aio.Server, address: str, tls: ServerTls | None) -> int:
    """Bind ``address`` in plaintext or with ``tls``; the bound port."""
    if tls is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, tls.credentials())
