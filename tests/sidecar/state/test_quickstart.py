"""The state-watermark quickstart, run as users run it: `run.sh --demo` (two runs on one etcd: the second resumes)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

import pytest
from daprjobs.etcd.embedded import free_port

REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_state_watermark_quickstart_resumes_after_restart(tmp_path: pathlib.Path) -> None:
    env = {**os.environ, "APP_PORT": str(free_port()), "DAPR_HTTP_PORT": str(free_port()),
           "DAPR_GRPC_PORT": str(free_port()), "METRICS_PORT": "0", "DAPRJOBS_ETCD_DATA_DIR": str(tmp_path / "etcd")}
    env.pop("DAPR_API_TOKEN", None)
    proc = subprocess.run([str(REPO / "quickstarts" / "state-watermark" / "run.sh"), "--demo"], env=env,
                          capture_output=True, text=True, timeout=240, start_new_session=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert re.findall(r"starting from watermark (\d+)", output) == ["0", "30"], output
    assert "batch processed: records 51..60, watermark now 60" in output, output
    assert output.count("demo run complete: 3 batches") == 2, output
