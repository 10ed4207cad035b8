from __future__ import annotations

import random

from daprjobs.core.partition import SLOTS, PartitionTable, slot_owners


def test_single_member_owns_everything() -> None:
    table = PartitionTable("a", ["a"], {})
    assert table.active_count() == SLOTS
    assert table.may_trigger(random.getrandbits(64))


def test_slots_split_roughly_evenly_and_exactly_once() -> None:
    members = ["s0", "s1", "s2"]
    owners = slot_owners(members)
    counts = {m: owners.count(m) for m in members}
    assert sum(counts.values()) == SLOTS
    for count in counts.values():
        assert abs(count - SLOTS / 3) < SLOTS * 0.1, counts


def test_join_moves_only_slots_to_the_newcomer() -> None:
    before = slot_owners(["s0", "s1", "s2"])
    after = slot_owners(["s0", "s1", "s2", "s3"])
    moved = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert moved, "a newcomer must gain slots"
    assert all(a == "s3" for _, a in moved)
    assert len(moved) < SLOTS * 0.35


def test_leave_moves_only_the_leavers_slots() -> None:
    before = slot_owners(["s0", "s1", "s2"])
    after = slot_owners(["s0", "s2"])
    for b, a in zip(before, after, strict=True):
        if b != "s1":
            assert a == b


def test_newcomer_waits_until_old_owner_publishes_new_view() -> None:
    old_view = ["s0", "s1"]
    new_view = ["s0", "s1", "s2"]
    # s2 joined; s0 and s1 still act on the old view.
    joining = PartitionTable("s2", new_view, {"s0": old_view, "s1": old_view})
    assert joining.active_count() == 0
    assert sum(joining.owned) > 0
    # s0 has let go, s1 not yet: s2 may trigger exactly the slots it takes from s0.
    partial = PartitionTable("s2", new_view, {"s0": new_view, "s1": old_view})
    old_owners = slot_owners(old_view)
    for slot in range(SLOTS):
        assert partial.active[slot] == (partial.owned[slot] and old_owners[slot] == "s0")
    done = PartitionTable("s2", new_view, {"s0": new_view, "s1": new_view})
    assert done.active == done.owned


def test_slots_that_stay_keep_firing_during_a_join() -> None:
    old_view = ["s0", "s1"]
    new_view = ["s0", "s1", "s2"]
    # s0 has already adopted the new view; s1 has not.
    s0 = PartitionTable("s0", new_view, {"s1": old_view, "s2": new_view})
    still_mine = [o == "s0" for o in slot_owners(old_view)]
    for slot in range(SLOTS):
        if s0.owned[slot]:
            assert still_mine[slot]
            assert s0.active[slot]


def test_no_slot_is_active_on_two_replicas_in_any_mix_of_views() -> None:
    views = [["s0", "s1"], ["s0", "s1", "s2"], ["s0", "s2"], ["s1", "s2"]]
    rng = random.Random(7)
    for _ in range(40):
        published = {m: rng.choice([v for v in views if m in v]) for m in ("s0", "s1", "s2")}
        tables = {m: PartitionTable(m, published[m], published) for m in published}
        for slot in range(SLOTS):
            assert sum(t.active[slot] for t in tables.values()) <= 1
