"""Unit tests for the bench's pure logic: percentiles, due-time encoding, delivery analysis, figures and tables."""

from __future__ import annotations

import json
import math
import pathlib

import pytest

from bench.deliveries import analyse
from bench.duedata import DueData, parse_rfc3339_ns, rfc3339_ns
from bench.report import Figure, ScenarioResult, at_most, exactly, ratio_at_least, render_table, write_json
from bench.stats import LatencySummary, bucketed_median_ms, percentile, rate_per_s, ratio

NS = 1_000_000_000


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert percentile([7.0], 99) == 7.0


def test_percentile_rejects_empty_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_latency_summary_in_ms() -> None:
    s = LatencySummary.of_ns([1_000_000, 2_000_000, 3_000_000, 100_000_000])
    assert s.count == 4
    assert s.p50_ms == 2.0
    assert s.max_ms == 100.0
    assert s.min_ms == 1.0
    assert math.isnan(LatencySummary.of_ns([]).p99_ms)


def test_rate_and_ratio() -> None:
    assert rate_per_s(500, NS // 2) == 1000
    assert rate_per_s(0, NS) == 0
    assert ratio(3, 4) == 0.75
    assert ratio(1, 0) is None
    assert ratio(1, float("nan")) is None


def test_bucketed_median_per_second() -> None:
    start = 10 * NS
    points = [(start + 100, 1_000_000), (start + 200, 3_000_000), (start + NS + 5, 9_000_000)]
    assert bucketed_median_ms(points, start, NS) == [1.0, 9.0]


def test_rfc3339_round_trip_keeps_nanoseconds() -> None:
    t = 1_900_000_000 * NS + 123_456_789
    text = rfc3339_ns(t)
    assert text.endswith(".123456789Z")
    assert parse_rfc3339_ns(text) == t
    assert parse_rfc3339_ns("2030-01-01T00:00:00Z") == parse_rfc3339_ns("2030-01-01T00:00:00.000Z")


def test_due_data_round_trip_and_ticks() -> None:
    d = DueData(due_ns=5 * NS + 7, period_ns=NS)
    back = DueData.decode(d.encode())
    assert back == d
    assert back.due_of_delivery(3) == 8 * NS + 7
    assert json.loads(d.encode())["due"] == rfc3339_ns(5 * NS + 7)


def test_analyse_one_shot_lateness_duplicates_and_early() -> None:
    due = 100 * NS
    data = DueData(due).encode()
    records = [("a", due + 5_000_000, data), ("b", due - 1, data), ("a", due + 9_000_000, data)]
    report = analyse(records)
    assert report.names == 2
    assert report.duplicates == 1
    assert report.early == 1
    assert sorted(report.lateness_ns) == [-1, 5_000_000, 9_000_000]


def test_analyse_recurring_holds_each_delivery_to_its_tick() -> None:
    due = 100 * NS
    data = DueData(due, NS).encode()
    records = [("r", due + 2 * NS + 10, data), ("r", due + 1, data), ("r", due + NS + 5, data)]
    report = analyse(records, expected_per_name=3)
    assert report.duplicates == 0
    assert sorted(report.lateness_ns) == [1, 5, 10]


def test_figure_targets() -> None:
    assert Figure("x", 0.7, "1/s", 1.0, "c", **ratio_at_least(0.6, "")).passed is True
    assert Figure("x", 0.5, "1/s", 1.0, "c", **ratio_at_least(0.6, "")).passed is False
    assert Figure("x", 51, "ms", **at_most(50, "")).passed is False
    assert Figure("x", 0, "n", **exactly(0, "")).passed is True
    assert Figure("x", 1, "n").passed is None
    assert Figure("x", 1, "n", 0.0, "zero").ratio is None


def test_table_and_json(tmp_path: pathlib.Path) -> None:
    res = ScenarioResult("trigger", {"jobs": 10})
    res.add(Figure("triggers/s", 1234.5, "1/s", 2000.0, "direct", **ratio_at_least(0.6, ">= 0.6")))
    res.add(Figure("lateness", float("nan"), "ms"))
    failed = ScenarioResult("scale", {}, error="RuntimeError: boom")
    table = render_table([res, failed])
    assert "triggers/s" in table and "0.62" in table and "yes" in table
    assert "ERROR" in table and "FAIL" in table
    path = write_json([res, failed], tmp_path, ["python", "-m", "bench"], True, {"cpus": 2})
    doc = json.loads(path.read_text())
    assert doc["scenarios"][0]["figures"][0]["ratio"] == pytest.approx(0.617, abs=1e-3)
    assert doc["scenarios"][0]["figures"][1]["value"] is None
    assert doc["scenarios"][1]["error"] == "RuntimeError: boom"
