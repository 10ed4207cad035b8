"""Which replica triggers which job: rendezvous hashing over slots, with safe handover.

Jobs carry a random 64-bit ``partition_id``. It maps to one of ``SLOTS`` slots,
and each slot belongs to the member with the highest rendezvous score for it.
Unlike go-etcd-cron's ``partition_id % N`` (where a join or leave moves almost
every job and Dapr pauses all triggering while replicas agree), adding or
removing one member only moves the slots that member gains or loses.

Handover without double triggering: every replica publishes the member *view*
it currently acts on. A replica triggers a slot only if it owns the slot under
its own view **and** no live peer owns it under that peer's published view.
The losing replica stops the slot, settles in-flight work, and only then
publishes its new view, which is what releases the slot to the gaining one.
Slots that do not change owner keep firing throughout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

SLOTS = 4096
_MASK64 = (1 << 64) - 1


def slot_of(partition_id: int) -> int:
    return partition_id % SLOTS


def _member_seed(member: str) -> int:
    return int.from_bytes(hashlib.blake2b(member.encode(), digest_size=8).digest(), "big")


def _mix(x: int) -> int:
    # splitmix64 finaliser: a cheap, well-spread 64-bit hash.
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK64
    return x ^ (x >> 31)


def slot_owners(members: Sequence[str]) -> list[str]:
    """The owner of every slot under a view (empty view: no owners)."""
    if not members:
        return [""] * SLOTS
    ordered = sorted(set(members))
    if len(ordered) == 1:
        return [ordered[0]] * SLOTS
    seeds = [(_member_seed(m), m) for m in ordered]
    owners = []
    for slot in range(SLOTS):
        # Ties are impossible in practice; max() breaks them by member id anyway.
        owners.append(max((_mix(seed ^ slot), m) for seed, m in seeds)[1])
    return owners


class PartitionTable:
    """This replica's view and the slots it may trigger right now."""

    def __init__(self, self_id: str, view: Sequence[str], peer_views: Mapping[str, Sequence[str]]) -> None:
        self.self_id = self_id
        self.view: tuple[str, ...] = tuple(sorted(set(view)))
        mine = slot_owners(self.view)
        claimed = [False] * SLOTS
        for peer, peer_view in peer_views.items():
            if peer == self_id or not peer_view:
                continue
            for slot, owner in enumerate(slot_owners(peer_view)):
                if owner == peer:
                    claimed[slot] = True
        # A replica outside its own view owns nothing (an empty view maps every slot to the owner "", which
        # must not match the inactive table's empty id).
        in_view = self_id in self.view
        self.owned: list[bool] = [in_view and owner == self_id for owner in mine]
        self.active: list[bool] = [own and not c for own, c in zip(self.owned, claimed, strict=True)]

    def owns(self, partition_id: int) -> bool:
        """Owned under this replica's own view (it must not hand these to anyone)."""
        return self.owned[partition_id % SLOTS]

    def may_trigger(self, partition_id: int) -> bool:
        """Owned and not still claimed by a peer that has not yet let go."""
        return self.active[partition_id % SLOTS]

    def active_count(self) -> int:
        return sum(self.active)

    @staticmethod
    def inactive() -> PartitionTable:
        return PartitionTable("", (), {})
