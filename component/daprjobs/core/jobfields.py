"""Copying a job between its three message shapes, field presence intact.

The runtime API's ``Job``, the Scheduler API's ``Job`` and the stored ``UserJob`` carry the same optional fields
under the same names; only the data field is ``data`` in the first two and ``payload`` when stored.
"""

from __future__ import annotations

from typing import Any

OPTIONAL_FIELDS = ("schedule", "repeats", "due_time", "ttl")


def copy_job_fields(src: Any, dst: Any, *, src_data: str = "data", dst_data: str = "data") -> None:
    """Copy every field ``src`` has (presence, not emptiness, decides: an empty Any is copied too)."""
    for name in OPTIONAL_FIELDS:
        if src.HasField(name):
            setattr(dst, name, getattr(src, name))
    if src.HasField("failure_policy"):
        dst.failure_policy.CopyFrom(src.failure_policy)
    if src.HasField(src_data):
        getattr(dst, dst_data).CopyFrom(getattr(src, src_data))
