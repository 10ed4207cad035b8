"""Fixtures for the security tests: a test PKI (CA, scheduler, sidecar and a rogue CA's certificate)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import pytest

from tests.security.certs import CertificateAuthority, Issued


@dataclass(frozen=True)
class Pki:
    ca: pathlib.Path
    scheduler: Issued
    sidecar: Issued
    # Signed by another CA: must be refused wherever the test CA is trusted.
    rogue: Issued
    rogue_ca: pathlib.Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    base = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority(base / "ca")
    other = CertificateAuthority(base / "other", name="rogue-ca")
    return Pki(ca=ca.cert, scheduler=ca.issue("scheduler"), sidecar=ca.issue("sidecar"), rogue=other.issue("rogue"),
               rogue_ca=other.cert)
