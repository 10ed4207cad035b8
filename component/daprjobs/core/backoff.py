"""Reconnect delays: exponential growth, a ceiling, and random jitter so sidecars don't reconnect in lockstep."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """``next()`` gives base, base*factor, ... up to ``maximum``, each spread by ±``jitter`` (a fraction)."""

    base_s: float = 0.5
    factor: float = 1.6
    maximum_s: float = 3.0
    jitter: float = 0.25
    rng: random.Random = field(default_factory=random.Random)
    _attempt: int = field(default=0, init=False)

    def next(self) -> float:
        delay = min(self.maximum_s, self.base_s * self.factor**self._attempt)
        self._attempt += 1
        spread = delay * self.jitter
        return max(0.0, delay + self.rng.uniform(-spread, spread))

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempts(self) -> int:
        return self._attempt
