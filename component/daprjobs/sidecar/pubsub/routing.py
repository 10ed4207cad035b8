"""Routing rules of a subscription: CEL ``match`` expressions over ``event`` (daprd ``findMatchingRoute``).

Rules are tried in order; the first whose expression is true gives the path; an empty ``match`` always
matches (the default route). Expressions are compiled once, with the maintained CEL implementation
(``common-expression-language``), so anything CEL accepts works: ``event.type == "order"``,
``event.data.n > 10 && has(event.data.kind)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cel  # type: ignore[import-untyped]


class RuleError(ValueError):
    """A ``match`` expression does not compile, or does not give a bool for an event."""


@dataclass(frozen=True)
class Rule:
    match: str
    path: str


class Router:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._programs: list[Any | None] = []
        for rule in self.rules:
            if not rule.match.strip():
                self._programs.append(None)
                continue
            try:
                self._programs.append(cel.compile(rule.match))
            except (ValueError, RuntimeError) as exc:
                raise RuleError(f"invalid match expression {rule.match!r}: {exc}") from None

    def route(self, event: Mapping[str, Any]) -> str | None:
        """The path of the first matching rule, or None when no rule matches."""
        context = {"event": dict(event)}
        for rule, program in zip(self.rules, self._programs, strict=True):
            if program is None:
                return rule.path
            try:
                result = program.execute(context)
            except Exception as exc:
                raise RuleError(f"match expression {rule.match!r} failed: {exc}") from None
            if not isinstance(result, bool):
                raise RuleError(f"match expression {rule.match!r} gave {result!r}, not a bool")
            if result:
                return rule.path
        return None
