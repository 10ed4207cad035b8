"""What was scheduled and what the app received, and the figures a scenario reports from them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

NS = 1_000_000_000


@dataclass(frozen=True)
class Delivery:
    name: str
    received_ns: int
    trigger_id: str | None


@dataclass
class Ledger:
    due_ns: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def by_name(self) -> dict[str, list[Delivery]]:
        out: dict[str, list[Delivery]] = defaultdict(list)
        for d in self.deliveries:
            out[d.name].append(d)
        return out

    def all_delivered(self) -> bool:
        got = self.by_name()
        return all(name in got for name in self.due_ns)


@dataclass(frozen=True)
class Outcome:
    scenario: str
    scheduled: int
    refused: int
    delivered: int
    lost: int
    early: int
    duplicates: int
    duplicates_with_other_id: int
    recovery_s: float
    normal_lateness_s: float
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.early == 0 and self.duplicates_with_other_id == 0


def outcome(scenario: str, ledger: Ledger, fault_ns: int, note: str = "") -> Outcome:
    """``recovery_s``: the worst lateness (received - due) of the jobs due in the 10 s after the fault, i.e. how
    long the fault held triggers back; ``normal_lateness_s``: the median lateness of the jobs due before it."""
    got = ledger.by_name()
    first = {name: ds[0] for name, ds in got.items() if name in ledger.due_ns}
    early = sum(1 for name, d in first.items() if d.received_ns < ledger.due_ns[name])
    early += sum(1 for name, ds in got.items() if name in ledger.due_ns
                 for d in ds[1:] if d.received_ns < ledger.due_ns[name])
    duplicates = sum(len(ds) - 1 for name, ds in got.items() if name in ledger.due_ns)
    other_id = sum(1 for name, ds in got.items() if name in ledger.due_ns
                   for d in ds[1:] if d.trigger_id != ds[0].trigger_id)
    after = [first[n].received_ns - due for n, due in ledger.due_ns.items()
             if fault_ns <= due < fault_ns + 10 * NS and n in first]
    before = sorted(first[n].received_ns - due for n, due in ledger.due_ns.items() if due < fault_ns and n in first)
    return Outcome(
        scenario=scenario, scheduled=len(ledger.due_ns), refused=len(ledger.refused), delivered=len(first),
        lost=len(ledger.due_ns) - len(first), early=early, duplicates=duplicates, duplicates_with_other_id=other_id,
        recovery_s=max(after, default=0) / NS, normal_lateness_s=(before[len(before) // 2] if before else 0) / NS,
        note=note)


def render(outcomes: list[Outcome]) -> str:
    head = ("scenario", "scheduled", "refused", "delivered", "lost", "early", "dups", "dups w/ other id",
            "recovery s", "normal lateness s", "result")
    rows = [head] + [(o.scenario, str(o.scheduled), str(o.refused), str(o.delivered), str(o.lost), str(o.early),
                      str(o.duplicates), str(o.duplicates_with_other_id), f"{o.recovery_s:.2f}",
                      f"{o.normal_lateness_s:.3f}", "ok" if o.passed else "FAIL") for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    notes = [f"- {o.scenario}: {o.note}" for o in outcomes if o.note]
    return "\n".join(lines + notes)
