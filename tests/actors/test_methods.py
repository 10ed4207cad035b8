"""daprd's NormalizeMethod (pure)."""

from __future__ import annotations

import pytest
from daprjobs.actors.methods import normalize_method


@pytest.mark.parametrize(
    ("method", "expected"),
    [("hello", "hello"), ("a/b/../c", "a/c"), ("../x", "x"), ("a/", "a/"), ("./a", "a"), ("..", ""), ("a//b", "a/b")],
)
def test_normalize(method: str, expected: str) -> None:
    assert normalize_method(method) == expected


@pytest.mark.parametrize("method", ["a#b", "a?b", "a\x00b", "a\x01b", "a\x7fb"])
def test_forbidden_characters(method: str) -> None:
    with pytest.raises(ValueError, match="method contains"):
        normalize_method(method)
