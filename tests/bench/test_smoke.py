"""Smoke test: every bench scenario at its ``--quick`` size with tiny job counts, so the harness keeps working.

It runs ``python -m bench`` as a user would (separate etcd, scheduler, sidecar and SDK app processes) and checks
correctness, never speed: every scenario finishes without error and every delivered / duplicates / early check holds.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = {"register", "trigger", "run", "lateness", "recurring", "scale", "replicas", "reminders", "peer", "invoke",
             "pubsub", "state"}
CORRECTNESS = ("delivered", "duplicates", "early")


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_every_scenario_runs_quick_with_tiny_counts(tmp_path: pathlib.Path) -> None:
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--count-scale", "0.02", "--results-dir", str(results),
         "--workdir", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, timeout=380,
    )
    assert proc.returncode == 0, f"bench failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    (path,) = results.glob("*.json")
    doc = json.loads(path.read_text())
    assert {s["scenario"] for s in doc["scenarios"]} == SCENARIOS
    assert doc["machine"]["cpus"] >= 1
    for scenario in doc["scenarios"]:
        assert scenario["error"] is None, scenario["error"]
        assert scenario["figures"], f"{scenario['scenario']} reported nothing"
        for fig in scenario["figures"]:
            if any(word in fig["name"] for word in CORRECTNESS):
                assert fig["passed"] is True, f"{scenario['scenario']}: {fig}"
    # The table is printed once with a row per figure.
    assert "scenario" in proc.stdout and "ratio" in proc.stdout
