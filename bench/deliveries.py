"""What the app's records say: lateness of every delivery, early deliveries, duplicates.

A delivery's due instant comes from the job data (``bench.duedata``). For a recurring job the k-th delivery of a name
(in receive order) is held to the k-th scheduled tick, ``due + k * period``: the scheduler never skips or merges
ticks, so an extra delivery (a duplicate) shows up as a delivery beyond the expected count for that name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bench.duedata import DueData


@dataclass(frozen=True, slots=True)
class Delivery:
    name: str
    recv_ns: int
    due_ns: int  # the scheduled instant this delivery answers

    @property
    def lateness_ns(self) -> int:
        return self.recv_ns - self.due_ns


@dataclass
class DeliveryReport:
    deliveries: list[Delivery]
    names: int
    duplicates: int  # deliveries beyond the expected per name
    early: int

    @property
    def lateness_ns(self) -> list[int]:
        return [d.lateness_ns for d in self.deliveries]


def analyse(records: Iterable[tuple[str, int, bytes]], expected_per_name: int = 1) -> DeliveryReport:
    by_name: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
    for name, recv_ns, data in records:
        by_name[name].append((recv_ns, data))
    deliveries: list[Delivery] = []
    duplicates = 0
    for name, items in by_name.items():
        items.sort()
        duplicates += max(0, len(items) - expected_per_name)
        decoded = DueData.decode(items[0][1])
        for k, (recv_ns, _) in enumerate(items):
            deliveries.append(Delivery(name, recv_ns, decoded.due_of_delivery(min(k, expected_per_name - 1))))
    early = sum(1 for d in deliveries if d.lateness_ns < 0)
    return DeliveryReport(deliveries=deliveries, names=len(by_name), duplicates=duplicates, early=early)
