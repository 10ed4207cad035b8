"""How a Dapr job or actor reminder is named inside the scheduler, and which names are valid.

Dapr's Scheduler stores every job under one flat name built from its metadata:
``app||<namespace>||<app id>||<name>`` for jobs and
``actorreminder||<namespace>||<actor type>||<actor id>||<name>`` for reminders. The user's
name is recovered by stripping the metadata-derived prefix, never by splitting on ``||``
(names and actor ids may contain ``||``). The name checks are go-etcd-cron's (a
Kubernetes DNS-1123 subdomain per ``||`` segment) and daprd's ``method.ValidateName``;
messages are theirs, byte for byte.
"""

from __future__ import annotations

import re

from daprjobs.proto.scheduler.v1 import scheduler_pb2

__all__ = [
    "SEP",
    "InvalidJobName",
    "UnknownJobTarget",
    "go_quote",
    "job_name",
    "key_from_metadata",
    "prefix_from_metadata",
    "reminder_name",
    "user_name",
    "validate_actor_name",
    "validate_job_name",
    "validate_name_prefix",
]

SEP = "||"
APP_KIND = "app"
REMINDER_KIND = "actorreminder"


class InvalidJobName(ValueError):
    """A job, reminder or prefix name the scheduler refuses; ``str()`` is Dapr's exact message."""


class UnknownJobTarget(ValueError):
    """JobMetadata without a job or actor target (Dapr: ``unknown job type: ...``)."""


def job_name(namespace: str, app_id: str, name: str) -> str:
    return SEP.join((APP_KIND, namespace, app_id, name))


def reminder_name(namespace: str, actor_type: str, actor_id: str, name: str) -> str:
    return SEP.join((REMINDER_KIND, namespace, actor_type, actor_id, name))


def _target_kind(meta: scheduler_pb2.JobMetadata) -> str:
    if not meta.HasField("target"):
        raise UnknownJobTarget("unknown job type: <nil>")
    kind = meta.target.WhichOneof("type")
    if kind is None:
        raise UnknownJobTarget("unknown job type: ")
    return kind


def full_name(name: str, meta: scheduler_pb2.JobMetadata) -> str:
    """The stored name of user job ``name`` with metadata ``meta`` (Dapr's buildJobName)."""
    return prefix_from_metadata(meta) + name


def prefix_from_metadata(meta: scheduler_pb2.JobMetadata) -> str:
    """The stored-name prefix of one job, trailing ``||`` included (the actor id is always part of it)."""
    if _target_kind(meta) == "actor":
        actor = meta.target.actor
        return SEP.join((REMINDER_KIND, meta.namespace, actor.type, actor.id)) + SEP
    return SEP.join((APP_KIND, meta.namespace, meta.app_id)) + SEP


def key_from_metadata(meta: scheduler_pb2.JobMetadata, as_prefix: bool) -> str:
    """Dapr's KeyFromMetadata, used by List and the Delete* calls.

    Jobs: ``app||ns||appid``; reminders: ``actorreminder||ns||type`` plus ``||id`` when an id is given. Unless
    ``as_prefix``, a trailing ``||`` is added (so ``as_prefix=True`` with an actor id matches every id starting
    with it, as DeleteByMetadata's ``id_prefix_match`` wants).
    """
    if _target_kind(meta) == "actor":
        actor = meta.target.actor
        key = SEP.join((REMINDER_KIND, meta.namespace, actor.type))
        if actor.id:
            key += SEP + actor.id
    else:
        key = SEP.join((APP_KIND, meta.namespace, meta.app_id))
    return key if as_prefix else key + SEP


def user_name(full: str, meta: scheduler_pb2.JobMetadata) -> str | None:
    """The user's job or reminder name inside stored name ``full``; None when ``full`` does not belong to ``meta``."""
    try:
        prefix = prefix_from_metadata(meta)
    except UnknownJobTarget:
        return None
    if not full.startswith(prefix):
        return None
    return full[len(prefix) :]


# --- Go string quoting (strconv.Quote, which %q uses) --------------------------------------------------------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): printable runes kept, the rest escaped as Go does."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif 0xD800 <= code <= 0xDFFF:
            # A lone surrogate is what a Python str holds for invalid UTF-8; Go prints the replacement escape.
            out.append("\\ufffd")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


# --- go-etcd-cron's job name validator ------------------------------------------------------------------------------

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + r"(\." + _DNS1123_LABEL + r")*"
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN + r"\Z")
_DNS1123_SUBDOMAIN_MAX = 253
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '"
    + _DNS1123_SUBDOMAIN
    + "')"
)
_SANITIZE = str.maketrans("", "", "_:- ")


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errs = []
    # Kubernetes counts bytes (Go len).
    if len(value.encode("utf-8", "surrogateescape")) > _DNS1123_SUBDOMAIN_MAX:
        errs.append(f"must be no more than {_DNS1123_SUBDOMAIN_MAX} characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(_DNS1123_SUBDOMAIN_MSG)
    return errs


def _go_lower(s: str) -> str:
    """Go's strings.ToLower maps rune by rune; Python's full case mapping turns U+0130 into two runes ("i" plus a
    combining dot) where Go gives a plain "i", which then passes the DNS check."""
    return s.replace("\u0130", "i").lower()


def validate_job_name(full: str) -> None:
    """go-etcd-cron's job name check on a full stored name. Raises InvalidJobName.

    ``_ : -`` and spaces are removed, the rest lower-cased and split on ``||``; each segment must be a DNS-1123
    subdomain. The message quotes the sanitized (not lower-cased) name.
    """
    if len(full) == 0:
        raise InvalidJobName("job name cannot be empty")
    sanitized = full.translate(_SANITIZE)
    for segment in _go_lower(sanitized).split(SEP):
        errs = _dns1123_subdomain_errors(segment)
        if errs:
            raise InvalidJobName(f"job name is invalid {go_quote(sanitized)}: {', '.join(errs)}")


def validate_name_prefix(prefix: str) -> None:
    """go-etcd-cron's DeletePrefixes check: an empty prefix is skipped, others are validated with ``a`` appended
    (so a prefix may end in a separator)."""
    if prefix:
        validate_job_name(prefix + "a")


def validate_actor_name(s: str) -> None:
    """daprd's ``method.ValidateName`` for reminder (and timer) names. Raises InvalidJobName with daprd's text."""
    if any(c in s for c in "#?\x00/\\"):
        raise InvalidJobName(f"name contains forbidden character: {go_quote(s)}")
    raw = s.encode("utf-8", "surrogateescape")
    for i, b in enumerate(raw):
        # Go ranges over runes and looks at the first byte of each; continuation bytes are >= 0x80 anyway.
        if b < 0x20 or b == 0x7F:
            raise InvalidJobName(f"name contains control character at position {i}: {go_quote(s)}")
    if s in (".", ".."):
        raise InvalidJobName(f"name is a path traversal sequence: {go_quote(s)}")

# Jobs a sidecar block schedules for itself (pub/sub's delayed publish) start with this name. The jobs block
# hides them from the app's ListJobs, refuses app jobs that use the prefix, and routes their triggers to the
# block that owns them instead of the app.
INTERNAL_JOB_PREFIX = "daprjobs.internal."


def is_internal_job(user_job_name: str) -> bool:
    return user_job_name.startswith(INTERNAL_JOB_PREFIX)
