"""The embedded etcd child process (daprjobs.etcd.embedded), as `daprjobs run` and the tests use it."""

from __future__ import annotations

import pathlib
import urllib.request

import pytest
from daprjobs.etcd.embedded import EtcdProcess


def test_etcd_fixture_is_a_live_server(etcd: EtcdProcess) -> None:
    assert b"true" in urllib.request.urlopen(etcd.endpoint + "/health").read()


def test_etcd_variables_in_the_environment_do_not_break_the_child(tmp_path: pathlib.Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETCD_DATA_DIR", str(tmp_path / "elsewhere"))
    proc = EtcdProcess(data_dir=tmp_path / "etcd")
    proc.start()
    try:
        assert proc.running
        assert (tmp_path / "etcd" / "member").is_dir()
    finally:
        proc.stop()
    assert not proc.running
