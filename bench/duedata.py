"""The job data the bench schedules: the due instant travels inside the job, so the app can measure lateness.

The payload is JSON (as the official Python SDK examples send it: an Any with an empty type URL and raw JSON bytes),
``{"due": "<RFC3339 with ns>", "period_ns": <int>}``. ``period_ns`` is 0 for one-shot jobs; for ``@every`` jobs the
k-th delivery (k from 0) is due at ``due + k * period_ns`` because the scheduler counts ticks from the scheduled,
not the actual, time of the previous one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

NS_PER_S = 1_000_000_000


def rfc3339_ns(t_ns: int) -> str:
    """An RFC3339 UTC instant with nanoseconds, e.g. ``2030-01-01T00:00:00.000000001Z`` (Go's RFC3339Nano)."""
    seconds, frac = divmod(t_ns, NS_PER_S)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def parse_rfc3339_ns(text: str) -> int:
    """Inverse of :func:`rfc3339_ns` for the UTC ``Z`` form it writes (any number of fractional digits)."""
    if not text.endswith("Z"):
        raise ValueError(f"not a UTC RFC3339 instant: {text!r}")
    body = text[:-1]
    whole, _, frac = body.partition(".")
    seconds = int(datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
    frac_ns = int((frac + "000000000")[:9]) if frac else 0
    return seconds * NS_PER_S + frac_ns


@dataclass(frozen=True)
class DueData:
    due_ns: int
    period_ns: int = 0

    def encode(self) -> bytes:
        return json.dumps({"due": rfc3339_ns(self.due_ns), "period_ns": self.period_ns}).encode()

    @classmethod
    def decode(cls, raw: bytes) -> DueData:
        doc = json.loads(raw)
        return cls(due_ns=parse_rfc3339_ns(doc["due"]), period_ns=int(doc.get("period_ns", 0)))

    def due_of_delivery(self, k: int) -> int:
        """Scheduled instant of the k-th delivery (k from 0)."""
        return self.due_ns + k * self.period_ns
