"""daprd's ``method.NormalizeMethod`` for actor method names taken from a URL or a request (no I/O)."""

from __future__ import annotations

import posixpath


def normalize_method(method: str) -> str:
    """Reject ``# ? NUL`` and control characters, resolve ``.``/``..`` segments (keeping one trailing slash).

    Raises ValueError with daprd's wording.
    """
    if any(c in method for c in "#?\x00"):
        raise ValueError(f"method contains forbidden character: {method!r}")
    for i, b in enumerate(method.encode("utf-8", "surrogateescape")):
        if b < 0x20 or b == 0x7F:
            raise ValueError(f"method contains control character at position {i}: {method!r}")
    if not method:
        return method
    trailing = method.endswith("/")
    cleaned = posixpath.normpath(method)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if trailing and cleaned != "/":
        cleaned += "/"
    while cleaned.startswith("../"):
        cleaned = cleaned[3:]
    if cleaned in ("..", "."):
        cleaned = ""
    return cleaned
