"""Go's time.ParseDuration and Duration.String: results, overflow rules and error texts."""

from __future__ import annotations

import pytest
from daprjobs.core.go_duration import format_go_duration, parse_go_duration
from daprjobs.core.timeunits import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_MS, NS_PER_SECOND, NS_PER_US

S = NS_PER_SECOND


# --- Go ParseDuration -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("+0", 0),
        ("-0", 0),
        ("0s", 0),
        ("5s", 5 * S),
        ("+5s", 5 * S),
        ("-2m", -2 * NS_PER_MINUTE),
        ("1h30m", 90 * NS_PER_MINUTE),
        ("1.5s", 1_500_000_000),
        (".5s", 500_000_000),
        ("5.s", 5 * S),
        ("1.5h", 90 * NS_PER_MINUTE),
        ("500ms", 500 * NS_PER_MS),
        ("10us", 10 * NS_PER_US),
        ("10\u00b5s", 10 * NS_PER_US),  # MICRO SIGN
        ("10\u03bcs", 10 * NS_PER_US),  # GREEK MU, what the Python SDK sends
        ("7ns", 7),
        ("1h1m1s1ms1us1ns", NS_PER_HOUR + NS_PER_MINUTE + S + NS_PER_MS + NS_PER_US + 1),
        ("0h0m5s0ms0\u03bcs", 5 * S),  # Python SDK's rendering of 5 s
        ("25h0m0s5ms0\u03bcs", 25 * NS_PER_HOUR + 5 * NS_PER_MS),
        ("1s1s", 2 * S),  # units may repeat; Go just sums
        ("2m1h", NS_PER_HOUR + 2 * NS_PER_MINUTE),  # any order
        ("0.000000001s", 1),
        ("0.0000000001s", 0),  # below a nanosecond truncates
        ("1.0000000000000000000000001s", S),  # long fractions are fine
        ("9223372036854775807ns", (1 << 63) - 1),
        ("-9223372036854775808ns", -(1 << 63)),
        ("2562047h47m16.854775807s", (1 << 63) - 1),
    ],
)
def test_parse_go_duration_accepts(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("-", 'time: invalid duration "-"'),
        ("+", 'time: invalid duration "+"'),
        ("s", 'time: invalid duration "s"'),
        (".s", 'time: invalid duration ".s"'),
        ("-.s", 'time: invalid duration "-.s"'),
        ("1", 'time: missing unit in duration "1"'),
        ("1.5", 'time: missing unit in duration "1.5"'),
        ("10s5", 'time: missing unit in duration "10s5"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("5S", 'time: unknown unit "S" in duration "5S"'),
        ("5 s", 'time: unknown unit " s" in duration "5 s"'),
        ("1x\u00b5s", 'time: unknown unit "x\\xc2\\xb5s" in duration "1x\\xc2\\xb5s"'),
        (" 5s", 'time: invalid duration " 5s"'),
        ("--5s", 'time: invalid duration "--5s"'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("2562048h", 'time: invalid duration "2562048h"'),
        ("99999999999999999999s", 'time: invalid duration "99999999999999999999s"'),
        ("5000000h5000000h", 'time: invalid duration "5000000h5000000h"'),
        ('"5s"', 'time: invalid duration "\\"5s\\""'),
    ],
)
def test_parse_go_duration_rejects_with_go_text(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_go_duration(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (NS_PER_US, "1\u00b5s"),
        (2 * NS_PER_US, "2\u00b5s"),
        (1_500, "1.5\u00b5s"),
        (NS_PER_MS, "1ms"),
        (500 * NS_PER_MS, "500ms"),
        (1_234_567, "1.234567ms"),
        (S, "1s"),
        (1_500_000_000, "1.5s"),
        (90 * S, "1m30s"),
        (60 * S, "1m0s"),
        (NS_PER_HOUR, "1h0m0s"),
        (25 * NS_PER_HOUR + 5 * NS_PER_MS, "25h0m0.005s"),
        (NS_PER_HOUR + 1, "1h0m0.000000001s"),
        (-2 * NS_PER_MINUTE, "-2m0s"),
        (-1, "-1ns"),
        (-1_500_000_000, "-1.5s"),
        ((1 << 63) - 1, "2562047h47m16.854775807s"),
        (-(1 << 63), "-2562047h47m16.854775808s"),
    ],
)
def test_format_go_duration_matches_go_string(ns: int, text: str) -> None:
    assert format_go_duration(ns) == text


@pytest.mark.parametrize("ns", [0, 1, 999, 1_000, 1_500, 5 * S, 90 * S, NS_PER_HOUR, 123_456_789_012, -7 * S])
def test_format_then_parse_round_trips(ns: int) -> None:
    assert parse_go_duration(format_go_duration(ns)) == ns
