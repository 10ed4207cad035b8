"""Raw JSON handling the way daprd's Go code does it.

daprd keeps a reminder's ``data`` as a ``json.RawMessage``: the bytes the app sent, untouched, and only
compacts them (with Go's HTML escaping) when it re-marshals the fire body. Python's ``json`` module throws
the raw text away, so this module finds the raw text of each top-level member of an object and implements
Go's ``json.Compact`` + HTML escaping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_constant=lambda name: _reject_constant(name))


class RawJsonError(ValueError):
    """The text is not the JSON the caller required."""


def _reject_constant(name: str) -> float:
    # Python accepts NaN/Infinity; Go's encoding/json (and JSON itself) does not.
    raise RawJsonError(f"invalid character {name[0]!r} looking for beginning of value")


@dataclass(frozen=True)
class RawMember:
    key: str
    raw: str  # the member value's exact source text
    value: object  # the decoded value


def decode_value(text: str) -> object:
    """Decode one JSON document (surrounding whitespace allowed, nothing else)."""
    idx = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    value, end = _raw_value(text, idx)
    end = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
    if end != len(text):
        raise RawJsonError(f"invalid character {text[end]!r} after top-level value")
    return value


def object_members(body: bytes) -> list[RawMember] | None:
    """The members of a top-level JSON object, each with its raw value text, in document order.

    Returns None when the document is JSON ``null`` (Go leaves the target struct untouched then).
    Raises RawJsonError for anything that is not an object or null, or is not valid JSON.
    Like Go's ``json.Decoder.Decode``, text after the first complete value is ignored.
    """
    text, idx = _first_value(body)
    if text[idx] != "{":
        value, _ = _raw_value(text, idx)
        if value is None:
            return None
        raise RawJsonError(f"cannot unmarshal {_json_kind(value)} into an object")
    members: list[RawMember] = []
    idx = _WHITESPACE.match(text, idx + 1).end()  # type: ignore[union-attr]
    if idx < len(text) and text[idx] == "}":
        return members
    while True:
        if idx >= len(text) or text[idx] != '"':
            raise RawJsonError(f"expecting property name at char {idx}")
        try:
            key, idx = json.decoder.scanstring(text, idx + 1)  # type: ignore[attr-defined]
        except json.JSONDecodeError as err:
            raise RawJsonError(str(err)) from err
        idx = _WHITESPACE.match(text, idx).end()  # type: ignore[union-attr]
        if idx >= len(text) or text[idx] != ":":
            raise RawJsonError(f"expecting ':' delimiter at char {idx}")
        idx = _WHITESPACE.match(text, idx + 1).end()  # type: ignore[union-attr]
        value, end = _raw_value(text, idx)
        members.append(RawMember(key=key, raw=text[idx:end], value=value))
        idx = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
        if idx < len(text) and text[idx] == ",":
            idx = _WHITESPACE.match(text, idx + 1).end()  # type: ignore[union-attr]
            continue
        if idx < len(text) and text[idx] == "}":
            return members
        raise RawJsonError(f"expecting ',' delimiter at char {idx}")


def array_items(body: bytes) -> list[RawMember]:
    """The elements of a top-level JSON array, each with its raw text (``key`` is its index as a string)."""
    text, idx = _first_value(body)
    if text[idx] != "[":
        value, _ = _raw_value(text, idx)
        raise RawJsonError(f"cannot unmarshal {_json_kind(value)} into an array")
    items: list[RawMember] = []
    idx = _WHITESPACE.match(text, idx + 1).end()  # type: ignore[union-attr]
    if idx < len(text) and text[idx] == "]":
        return items
    while True:
        value, end = _raw_value(text, idx)
        items.append(RawMember(key=str(len(items)), raw=text[idx:end], value=value))
        idx = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
        if idx < len(text) and text[idx] == ",":
            idx = _WHITESPACE.match(text, idx + 1).end()  # type: ignore[union-attr]
            continue
        if idx < len(text) and text[idx] == "]":
            return items
        raise RawJsonError(f"expecting ',' delimiter at char {idx}")


def find_member(members: list[RawMember], *names: str) -> RawMember | None:
    """Go's encoding/json field matching: an exact name first, else case-insensitive; the last duplicate wins."""
    exact = [m for m in members if m.key in names]
    if exact:
        return exact[-1]
    lowered = {n.lower() for n in names}
    folded = [m for m in members if m.key.lower() in lowered]
    return folded[-1] if folded else None


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "value"


_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_compact(raw: bytes) -> bytes:
    """Go's ``json.Marshal(json.RawMessage)``: drop insignificant whitespace, HTML-escape inside strings.

    The input must already be valid JSON; escape sequences inside strings are kept as written.
    """
    text = raw.decode("utf-8")
    out: list[str] = []
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
                out.append(ch)
            elif ch == "\\":
                escaped = True
                out.append(ch)
            elif ch == '"':
                in_string = False
                out.append(ch)
            else:
                out.append(_HTML_ESCAPES.get(ch, ch))
        elif ch in " \t\n\r":
            continue
        else:
            if ch == '"':
                in_string = True
            out.append(ch)
    return "".join(out).encode("utf-8")


def is_valid_json(raw: bytes) -> bool:
    try:
        decode_value(raw.decode("utf-8"))
    except (RawJsonError, UnicodeDecodeError):
        return False
    return True


def _first_value(body: bytes) -> tuple[str, int]:
    """The body as text and the index of its first non-blank character (Go's "EOF" when there is none)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RawJsonError(f"body is not UTF-8: {err}") from err
    idx = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    if idx >= len(text):
        raise RawJsonError("EOF")
    return text, idx


def _raw_value(text: str, idx: int) -> tuple[object, int]:
    """One JSON value starting at ``idx`` and the index just after it."""
    try:
        value, end = _DECODER.raw_decode(text, idx)
    except json.JSONDecodeError as err:
        raise RawJsonError(str(err)) from err
    return value, end
