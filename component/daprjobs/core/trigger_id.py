"""The stable id of one trigger: the job's name and the scheduled tick it fires, ``<name>@<RFC 3339 tick>``.

A job fires each tick at least once; after a scheduler replica dies (kill -9) a tick the app already got may come
again through the job's new owner. The id is the same on every delivery of one tick (retries and failovers
included) and differs between ticks, so an app that records the ids it has handled can drop the repeats. daprd
sends nothing of the kind; daprjobs sends it as the ``daprjobs-trigger-id`` HTTP header / gRPC metadata.

The name is percent-encoded so the id is printable ASCII (gRPC metadata and HTTP headers allow no more).
"""

from __future__ import annotations

from urllib.parse import quote

from daprjobs.core.rfc3339 import format_rfc3339

TRIGGER_ID_HEADER = "daprjobs-trigger-id"


def trigger_id(job_name: str, scheduled_ns: int) -> str:
    return f"{quote(job_name, safe='')}@{format_rfc3339(scheduled_ns)}"
