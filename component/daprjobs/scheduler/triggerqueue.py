"""A time-ordered queue of the jobs this replica will trigger.

A binary heap of (due, sequence, job). Re-queueing a job does not search the
heap: the job remembers the sequence number of its live entry and stale
entries are skipped when they surface. A job is out of the queue while its
trigger is in flight, which is what keeps one trigger per job at a time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import Generic, Protocol, TypeVar


class Queueable(Protocol):
    queued_seq: int



T = TypeVar("T", bound=Queueable)


class TriggerQueue(Generic[T]):
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, T]] = []
        self._seq = itertools.count(1)
        self.wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, job: T, due_ns: int) -> None:
        seq = next(self._seq)
        job.queued_seq = seq
        head = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (due_ns, seq, job))
        if head is None or due_ns < head:
            self.wake.set()

    @staticmethod
    def discard(job: T) -> None:
        """Forget the job's live entry; it is skipped when it reaches the top."""
        job.queued_seq = 0

    def next_due(self) -> int | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ns: int, limit: int) -> list[tuple[int, T]]:
        """Up to ``limit`` live entries due at or before now, earliest first."""
        out: list[tuple[int, T]] = []
        heap = self._heap
        while heap and len(out) < limit:
            due, seq, job = heap[0]
            if job.queued_seq != seq:
                heapq.heappop(heap)
                continue
            if due > now_ns:
                break
            heapq.heappop(heap)
            job.queued_seq = 0
            out.append((due, job))
        return out

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap and heap[0][2].queued_seq != heap[0][1]:
            heapq.heappop(heap)
