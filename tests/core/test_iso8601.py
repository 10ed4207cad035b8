"""dapr/kit's ISO-8601 duration parser, quirks included."""

from __future__ import annotations

import pytest
from daprjobs.core.iso8601 import ISODuration, parse_iso8601_duration
from daprjobs.core.timeunits import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

S = NS_PER_SECOND


# --- ISO-8601 (dapr/kit) --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT10S", ISODuration(0, 0, 0, 0, 10 * S, None)),
        ("PT1H30M", ISODuration(0, 0, 0, 0, 90 * NS_PER_MINUTE, None)),
        ("P1Y2M3W4DT5H6M7S", ISODuration(1, 2, 3, 4, 5 * NS_PER_HOUR + 6 * NS_PER_MINUTE + 7 * S, None)),
        ("P1M", ISODuration(0, 1, 0, 0, 0, None)),
        ("PT1M", ISODuration(0, 0, 0, 0, NS_PER_MINUTE, None)),
        ("P1MT1M", ISODuration(0, 1, 0, 0, NS_PER_MINUTE, None)),
        ("R5/PT1M30S", ISODuration(0, 0, 0, 0, 90 * S, 5)),
        ("R0/PT1S", ISODuration(0, 0, 0, 0, S, 0)),
        ("R-1/PT1S", ISODuration(0, 0, 0, 0, S, -1)),  # strconv.Atoi takes the sign
        ("R5/", ISODuration(0, 0, 0, 0, 0, 5)),
        ("R5", ISODuration(0, 0, 0, 0, 0, 5)),
        ("PT", ISODuration(0, 0, 0, 0, 0, None)),
        ("P1", ISODuration(0, 0, 0, 0, 0, None)),  # trailing number without designator is ignored
        ("PT5s", ISODuration(0, 0, 0, 0, 0, None)),  # unknown characters are skipped: lower-case s is not S
        ("P1D1D", ISODuration(0, 0, 0, 2, 0, None)),  # days add up
        ("P1Y2Y", ISODuration(2, 0, 0, 0, 0, None)),  # years overwrite
        ("P1W", ISODuration(0, 0, 1, 0, 0, None)),
        ("PT-5S", ISODuration(0, 0, 0, 0, -5 * S, None)),
        ("PT+5S", ISODuration(0, 0, 0, 0, 5 * S, None)),
        ("PT36H", ISODuration(0, 0, 0, 0, 36 * NS_PER_HOUR, None)),
    ],
)
def test_parse_iso8601_duration_matches_kit(text: str, expected: ISODuration) -> None:
    assert parse_iso8601_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "R",
        "R/PT1S",
        "Rx/PT1S",
        "R5/XT1S",
        "10s",
        "pt5s",
        "PT5H1D",  # date designator in the time part
        "P5H",  # time designator in the date part
        "P5S",
        "PD",  # designator without a number
        "PTS",
        "P1.5D",  # integers only
        "PT1.5S",
        "PT1_0S",
        "P 1D",
        "P1XT1S",  # T after pending characters
    ],
)
def test_parse_iso8601_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_iso8601_duration(text)
    assert str(info.value) == f"unsupported ISO8601 duration format: {text}"


def test_iso_t_right_after_a_date_component_is_accepted() -> None:
    # `start != i` is false right after a designator, so "P1DT" ends with an empty time part.
    assert parse_iso8601_duration("P1DT") == ISODuration(0, 0, 0, 1, 0, None)
    assert parse_iso8601_duration("P1YT") == ISODuration(1, 0, 0, 0, 0, None)
