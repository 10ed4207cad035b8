"""Raw JSON members and Go-style compaction (pure)."""

from __future__ import annotations

import pytest
from daprjobs.actors.rawjson import RawJsonError, array_items, find_member, go_compact, object_members


def test_members_keep_the_raw_text_of_each_value() -> None:
    members = object_members(b'{ "a" : { "x" : [ 1, 2 ] } , "b":"\\u00e9 <&>", "c" : null }')
    assert members is not None
    assert [(m.key, m.raw) for m in members] == [
        ("a", '{ "x" : [ 1, 2 ] }'),
        ("b", '"\\u00e9 <&>"'),
        ("c", "null"),
    ]
    assert members[0].value == {"x": [1, 2]}
    assert members[2].value is None


def test_null_document_is_no_members_and_other_kinds_are_errors() -> None:
    assert object_members(b"  null ") is None
    assert object_members(b"{}") == []
    for bad in (b"", b"[1]", b'"x"', b"{", b'{"a" 1}', b'{"a":1,}', b"{'a':1}", b'{"a":NaN}'):
        with pytest.raises(RawJsonError):
            object_members(bad)


def test_text_after_the_first_value_is_ignored_like_gos_decoder() -> None:
    members = object_members(b'{"a":1} trailing')
    assert members is not None and members[0].raw == "1"


def test_find_member_prefers_exact_then_case_insensitive_last_wins() -> None:
    members = object_members(b'{"DUETIME":"1s","dueTime":"2s","period":"a","Period":"b"}')
    assert members is not None
    found = find_member(members, "dueTime")
    assert found is not None and found.value == "2s"
    members = object_members(b'{"PERIOD":"a","Period":"b"}')
    assert members is not None
    found = find_member(members, "period")
    assert found is not None and found.value == "b"


def test_go_compact_drops_whitespace_and_html_escapes_inside_strings_only() -> None:
    assert go_compact(b'{  "foo": [ 12, 4 ] }') == b'{"foo":[12,4]}'
    assert go_compact(b'"a <b> & c"') == b'"a \\u003cb\\u003e \\u0026 c"'
    assert go_compact(b'"keep \\" \\n escapes"') == b'"keep \\" \\n escapes"'
    assert go_compact(b" true ") == b"true"


def test_array_items_keep_raw_elements() -> None:
    items = array_items(b' [ {"a" : 1} , "x" , 3 ] ')
    assert [i.raw for i in items] == ['{"a" : 1}', '"x"', "3"]
    assert array_items(b"[]") == []
    with pytest.raises(RawJsonError):
        array_items(b'{"a":1}')
