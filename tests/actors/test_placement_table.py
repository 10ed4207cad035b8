"""Placement math: rendezvous ownership and local suspicion (pure)."""

from __future__ import annotations

from collections import Counter

from daprjobs.actors.placement import PlacementTable, parse_key, rendezvous_owner

HOSTS = ["10.0.0.1:3500", "10.0.0.2:3500", "10.0.0.3:3500"]


def test_owner_is_deterministic_and_spread() -> None:
    owners = [rendezvous_owner(HOSTS, "Demo", str(i)) for i in range(3000)]
    assert owners == [rendezvous_owner(list(reversed(HOSTS)), "Demo", str(i)) for i in range(3000)]
    counts = Counter(owners)
    assert set(counts) == set(HOSTS)
    assert min(counts.values()) > 800  # roughly a third each
    assert rendezvous_owner([], "Demo", "1") is None


def test_only_the_leaving_hosts_actors_move() -> None:
    before = {i: rendezvous_owner(HOSTS, "Demo", str(i)) for i in range(1000)}
    after = {i: rendezvous_owner(HOSTS[:2], "Demo", str(i)) for i in range(1000)}
    for i in range(1000):
        if before[i] != HOSTS[2]:
            assert after[i] == before[i]
        else:
            assert after[i] in HOSTS[:2]


def test_suspected_host_is_skipped_until_it_reregisters_or_the_suspicion_expires() -> None:
    table = PlacementTable()
    for rev, host in enumerate(HOSTS, start=1):
        table.put("Demo", host, rev)
    actor = next(str(i) for i in range(100) if table.owner("Demo", str(i), 0.0) == HOSTS[0])
    table.suspect("Demo", HOSTS[0], until=10.0)
    assert HOSTS[0] not in table.live("Demo", 5.0)
    assert table.owner("Demo", actor, 5.0) in HOSTS[1:]
    assert table.owner("Demo", actor, 11.0) == HOSTS[0]  # expired
    table.suspect("Demo", HOSTS[0], until=100.0)
    table.put("Demo", HOSTS[0], 99)  # it registered again (restart): trusted again
    assert table.owner("Demo", actor, 20.0) == HOSTS[0]
    table.delete("Demo", HOSTS[0])
    assert table.live("Demo", 20.0) == HOSTS[1:]
    assert table.snapshot() == {"Demo": HOSTS[1:]}


def test_parse_key() -> None:
    root = "daprjobs/actors/placement"
    assert parse_key(root, "default", b"daprjobs/actors/placement/default/Demo/127.0.0.1:3500") == (
        "Demo",
        "127.0.0.1:3500",
    )
    assert parse_key(root, "default", b"daprjobs/actors/placement/other/Demo/h:1") is None
    assert parse_key(root, "default", b"daprjobs/actors/placement/default/Demo") is None
