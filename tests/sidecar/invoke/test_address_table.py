"""The name-resolution table: round robin, suspicion until a new registration or the deadline, keys."""

from __future__ import annotations

from daprjobs.sidecar.invoke.nameresolution import AddressTable, parse_key
from daprjobs.sidecar.invoke.target import go_path_clean, normalize_method, split_app_id

APP = ("default", "orders")


def test_round_robin_skips_suspects_until_reregistered_or_expired() -> None:
    table = AddressTable()
    table.put(APP, "h1:1", 10)
    table.put(APP, "h2:2", 11)
    assert [table.pick(APP, 0.0) for _ in range(4)] == ["h1:1", "h2:2", "h1:1", "h2:2"]
    table.suspect(APP, "h1:1", until=5.0)
    assert {table.pick(APP, 1.0) for _ in range(4)} == {"h2:2"}
    assert table.pick(APP, 1.0, exclude=frozenset({"h2:2"})) == "h1:1"  # all suspected: tried anyway
    table.put(APP, "h1:1", 12)  # registered again (a restart): no longer suspected
    assert table.live(APP, 1.0) == ["h1:1", "h2:2"]
    table.suspect(APP, "h2:2", until=5.0)
    assert table.live(APP, 6.0) == ["h1:1", "h2:2"]  # suspicion expired
    table.delete(APP, "h1:1")
    table.delete(APP, "h2:2")
    assert table.pick(APP, 6.0) is None and not table.known(APP)


def test_keys_and_targets() -> None:
    assert parse_key("root", b"root/ns/app/127.0.0.1:3500") == (("ns", "app"), "127.0.0.1:3500")
    assert parse_key("root", b"root/ns/app") is None
    assert split_app_id("app", "default") == ("app", "default")
    assert split_app_id("app.prod", "default") == ("app", "prod")
    assert go_path_clean("a//b/./c/../d") == "a/b/d" and go_path_clean("") == "."
    assert normalize_method("../../etc/passwd") == "etc/passwd"
    assert normalize_method("orders/./1/") == "orders/1"
