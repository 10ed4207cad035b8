"""Go's ``time.ParseDuration`` and ``Duration.String``, error texts included.

Dapr's scheduler is written in Go, so ``@every`` intervals, relative due times and TTLs, reminder periods and
sidecar options are read by Go's ``time`` package. A string Dapr accepts or rejects must be accepted or rejected here
with the same result and the same error text, so the grammar is re-implemented exactly, overflow rules included.
"""

from __future__ import annotations

from daprjobs.core.timeunits import INT64_MAX, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_MS, NS_PER_SECOND, NS_PER_US

__all__ = ["format_go_duration", "go_quote_time", "parse_go_duration"]

_UNIT_NS: dict[bytes, int] = {
    b"ns": 1,
    b"us": NS_PER_US,
    "\u00b5s".encode(): NS_PER_US,  # µ MICRO SIGN
    "\u03bcs".encode(): NS_PER_US,  # μ GREEK SMALL LETTER MU (what the Python SDK sends)
    b"ms": NS_PER_MS,
    b"s": NS_PER_SECOND,
    b"m": NS_PER_MINUTE,
    b"h": NS_PER_HOUR,
}
_DIGITS = frozenset(b"0123456789")
_DOT = ord(".")
# Go accumulates into a uint64 and fails past 2^63 (one more than int64 holds, for a negative minimum).
_ACCUMULATOR_MAX = 1 << 63


def go_quote_time(s: str | bytes) -> str:
    """Go's ``time.quote``: double-quoted, each byte of a non-ASCII or control character as ``\\xNN``."""
    raw = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    out = ['"']
    for b in raw:
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        elif b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        else:
            out.append(chr(b))
    out.append('"')
    return "".join(out)


def parse_go_duration(s: str) -> int:
    """Go ``time.ParseDuration``: ``[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+``, result in int ns.

    Errors carry Go's texts: ``time: invalid duration "x"``, ``time: missing unit in duration "x"``,
    ``time: unknown unit "u" in duration "x"``.
    """
    orig = s.encode("utf-8", "surrogateescape")
    b = orig
    neg = False
    if b and b[0] in b"-+":
        neg = b[0] == ord("-")
        b = b[1:]
    if b == b"0":
        return 0
    if not b:
        raise _invalid(orig)
    total = 0
    i = 0
    while i < len(b):
        component_ns, i = _component_ns(b, i, orig)
        total += component_ns
        if total > _ACCUMULATOR_MAX:
            raise _invalid(orig)
    if neg:
        return -total
    if total > INT64_MAX:
        raise _invalid(orig)
    return total


def _invalid(orig: bytes) -> ValueError:
    return ValueError(f"time: invalid duration {go_quote_time(orig)}")


def _component_ns(b: bytes, i: int, orig: bytes) -> tuple[int, int]:
    """One ``[0-9]*(\\.[0-9]*)?unit`` of ``b`` starting at ``i``: its ns and the index after it."""
    if not (b[i] == _DOT or b[i] in _DIGITS):
        raise _invalid(orig)
    whole, after_whole = _leading_int(b, i, orig)
    has_whole = after_whole != i
    i = after_whole
    fraction, scale, has_fraction = 0, 1, False
    if i < len(b) and b[i] == _DOT:
        fraction, scale, after_fraction = _leading_fraction(b, i + 1)
        has_fraction = after_fraction != i + 1
        i = after_fraction
    if not has_whole and not has_fraction:
        raise _invalid(orig)
    unit, i = _unit_at(b, i, orig)
    if whole > _ACCUMULATOR_MAX // unit:
        raise _invalid(orig)
    ns = whole * unit
    if fraction > 0:
        # Go computes the fraction in float64 (exact to the ns for every unit up to hours).
        ns += int(float(fraction) * (float(unit) / float(scale)))
        if ns > _ACCUMULATOR_MAX:
            raise _invalid(orig)
    return ns, i


def _leading_int(b: bytes, i: int, orig: bytes) -> tuple[int, int]:
    """Go's ``leadingInt``: the digits from ``i`` as an int and the index after them; more than 2^63 fails."""
    v = 0
    while i < len(b) and b[i] in _DIGITS:
        v = v * 10 + (b[i] - 48)
        if v > _ACCUMULATOR_MAX:
            raise _invalid(orig)
        i += 1
    return v, i


def _leading_fraction(b: bytes, i: int) -> tuple[int, int, int]:
    """Go's ``leadingFraction``: (digits as an int, 10**kept digits, index after them).

    Digits are kept while they fit in int64; the rest are read and ignored.
    """
    f = 0
    scale = 1
    overflow = False
    while i < len(b) and b[i] in _DIGITS:
        if not overflow:
            if f > INT64_MAX // 10:
                overflow = True
            else:
                y = f * 10 + (b[i] - 48)
                if y > _ACCUMULATOR_MAX:
                    overflow = True
                else:
                    f = y
                    scale *= 10
        i += 1
    return f, scale, i


def _unit_at(b: bytes, i: int, orig: bytes) -> tuple[int, int]:
    """The unit from ``i`` (everything up to the next digit or dot) in ns, and the index after it."""
    start = i
    while i < len(b) and not (b[i] == _DOT or b[i] in _DIGITS):
        i += 1
    if i == start:
        raise ValueError(f"time: missing unit in duration {go_quote_time(orig)}")
    unit_bytes = b[start:i]
    unit = _UNIT_NS.get(unit_bytes)
    if unit is None:
        raise ValueError(f"time: unknown unit {go_quote_time(unit_bytes)} in duration {go_quote_time(orig)}")
    return unit, i


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction of v/10**prec without trailing zeros (and no point when zero)."""
    digits = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(chr(48 + digit))
        v //= 10
    if printed:
        return "." + "".join(reversed(digits)), v
    return "", v


def format_go_duration(ns: int) -> str:
    """Go ``Duration.String()``: ``1h0m0s``, ``1m30s``, ``1.5s``, ``500ms``, ``2µs`` (U+00B5), ``0s``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < NS_PER_SECOND:
        if u < NS_PER_US:
            prec, unit = 0, "ns"
        elif u < NS_PER_MS:
            prec, unit = 3, "\u00b5s"
        else:
            prec, unit = 6, "ms"
        frac, whole = _fmt_frac(u, prec)
        out = f"{whole}{frac}{unit}"
    else:
        frac, secs = _fmt_frac(u, 9)
        out = f"{secs % 60}{frac}s"
        mins = secs // 60
        if mins > 0:
            out = f"{mins % 60}m{out}"
            hours = mins // 60
            if hours > 0:
                out = f"{hours}h{out}"
    return "-" + out if neg else out
