"""The actor-reminders quickstart runs with one command and finishes by itself in demo mode."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
from daprjobs.etcd.embedded import free_port

pytestmark = pytest.mark.slow
RUN = pathlib.Path(__file__).parents[2] / "quickstarts" / "actor-reminders" / "run.sh"


def test_actor_reminders_quickstart_demo(tmp_path: pathlib.Path) -> None:
    env = dict(os.environ, APP_PORT=str(free_port()), DAPR_HTTP_PORT=str(free_port()),
               DAPR_GRPC_PORT=str(free_port()), METRICS_PORT="0", DAPRJOBS_ETCD_DATA_DIR=str(tmp_path / "etcd"))
    result = subprocess.run([str(RUN), "--demo"], env=env, capture_output=True, text=True, timeout=180)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "target set to 21.5" in out
    assert out.count("reminder 'reading' fired") == 3
    assert '"readings": 3' in out and '"target": 21.5' in out
    assert "demo complete" in out
