"""The delayed pub/sub quickstart runs with its one command (`daprjobs run -f`, embedded etcd and redis)."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
from daprjobs.etcd.embedded import free_port

RUN = pathlib.Path(__file__).resolve().parents[3] / "quickstarts" / "delayed-pubsub" / "run.sh"


@pytest.mark.slow
def test_delayed_pubsub_quickstart(tmp_path: pathlib.Path) -> None:
    env = {**os.environ, "PUBLISHER_PORT": str(free_port()), "SUBSCRIBER_PORT": str(free_port()),
           "DAPRJOBS_ETCD_DATA_DIR": str(tmp_path / "etcd")}
    for key in ("DAPR_HTTP_PORT", "DAPR_GRPC_PORT", "DAPR_API_TOKEN"):
        env.pop(key, None)
    proc = subprocess.run([str(RUN), "--demo"], env=env, capture_output=True, text=True, timeout=180,
                          start_new_session=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    for line in ("job delivered: send-digest", "message received: reminder", "message received: digest",
                 "demo complete: 2 delayed messages received, none early", "== daprjobs run: stopped"):
        assert line in output, output
    assert (tmp_path / "redis" / "appendonly.aof").exists() or any((tmp_path / "redis").glob("appendonly*"))
