"""Actor timers: in the sidecar's memory only, never persisted (scheduler-internals §7.4).

A timer fires ``PUT /actors/{t}/{id}/method/timer/{name}`` with ``{"callback","data","dueTime","period"}``
(``dueTime`` and ``period`` as registered). The first tick is at ``dueTime`` (now when empty); the next tick is
computed only after the callback returns, so a slow callback never overlaps itself. ``period`` follows daprd's
timer rules: a Go duration or ISO-8601 ``[Rn/]P…`` (calendar parts allowed for timers, ``R0`` rejected);
``ttl`` is absolute (RFC3339) or relative to the first tick, and a timer already expired is refused.

The pure part (``TimerSpec``, ``plan_timer``, ``next_tick``, ``fire_body``) has no I/O; ``ActorTimers`` runs
one asyncio task per timer on an injected ``Clock``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dapr.proto.runtime.v1 import actors_pb2

from daprjobs.actors import actor_errors
from daprjobs.actors.rawjson import RawJsonError, go_compact, object_members
from daprjobs.actors.reminders import grpc_bytes_as_json
from daprjobs.core import go_duration, gregorian, iso8601, rfc3339, timefields
from daprjobs.core.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimerSpec:
    actor_type: str
    actor_id: str
    name: str
    callback: str = ""
    data: bytes | None = None  # raw JSON text as registered
    due_time: str = ""
    period: str = ""
    ttl: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.actor_type, self.actor_id, self.name)


@dataclass(frozen=True)
class TimerPlan:
    first_ns: int
    years: int = 0
    months: int = 0
    days: int = 0
    interval_ns: int = 0
    repeats: int | None = None  # None: forever (when periodic)
    expires_ns: int | None = None

    @property
    def periodic(self) -> bool:
        return bool(self.years or self.months or self.days or self.interval_ns)


def parse_http_timer(actor_type: str, actor_id: str, name: str, body: bytes) -> TimerSpec:
    """``PUT|POST /v1.0/actors/{t}/{id}/timers/{name}`` body → TimerSpec; 400 ERR_MALFORMED_REQUEST if unreadable."""
    try:
        members = object_members(body) or []
    except RawJsonError as err:
        raise actor_errors.malformed_request(str(err)) from err
    by_key: dict[str, object] = {}
    data: bytes | None = None
    for member in members:
        lowered = member.key.lower()
        if lowered == "data":
            data = member.raw.encode("utf-8")
        elif lowered in ("callback", "duetime", "period", "ttl"):
            if member.value is not None and not isinstance(member.value, str):
                raise actor_errors.malformed_request(
                    f"json: cannot unmarshal {member.raw[:20]} into field {member.key}"
                )
            by_key[lowered] = member.value or ""
    return TimerSpec(
        actor_type=actor_type,
        actor_id=actor_id,
        name=name,
        callback=str(by_key.get("callback", "")),
        data=data,
        due_time=str(by_key.get("duetime", "")),
        period=str(by_key.get("period", "")),
        ttl=str(by_key.get("ttl", "")),
    )


def timer_from_grpc(req: actors_pb2.RegisterActorTimerRequest) -> TimerSpec:
    return TimerSpec(
        actor_type=req.actor_type,
        actor_id=req.actor_id,
        name=req.name,
        callback=req.callback,
        data=grpc_bytes_as_json(req.data),
        due_time=req.due_time,
        period=req.period,
        ttl=req.ttl,
    )


def _parse_timer_period(period: str) -> tuple[int, int, int, int, int | None]:
    """(years, months, days, ns, repeats) — dapr/kit ParseDuration: ISO-8601 first, then a Go duration."""
    try:
        iso = iso8601.parse_iso8601_duration(period)
    except ValueError:
        try:
            ns = go_duration.parse_go_duration(period)
        except ValueError as err:
            raise ValueError(f"invalid timer period: parse error: {err}") from None
        return 0, 0, 0, ns, None
    if iso.repeats is not None and iso.repeats <= 0:
        raise ValueError("invalid timer period: has zero repetitions")
    return iso.years, iso.months, iso.total_days, iso.ns, iso.repeats


def plan_timer(spec: TimerSpec, now_ns: int) -> TimerPlan:
    """When a timer fires. Raises ValueError with daprd's wording for a bad dueTime, period or ttl."""
    try:
        first = timefields.parse_point_in_time(spec.due_time, now_ns, "due time") if spec.due_time else now_ns
    except ValueError as err:
        raise ValueError(f"error parsing timer due time: {err}") from None
    years = months = days = ns = 0
    repeats: int | None = None
    if spec.period:
        years, months, days, ns, repeats = _parse_timer_period(spec.period)
        if years < 0 or months < 0 or days < 0 or ns < 0:
            raise ValueError("invalid timer period: the period must not be negative")
    expires: int | None = None
    if spec.ttl:
        try:
            expires = timefields.parse_point_in_time(spec.ttl, first, "ttl")
        except ValueError as err:
            raise ValueError(f"error parsing timer TTL: {err}") from None
        if now_ns > expires or first > expires:
            raise ValueError(
                f"timer {spec.actor_type}||{spec.actor_id}||{spec.name} has already expired: "
                f"dueTime: {rfc3339.format_rfc3339(first)} TTL: {spec.ttl}"
            )
    return TimerPlan(
        first_ns=first, years=years, months=months, days=days, interval_ns=ns, repeats=repeats, expires_ns=expires
    )


def next_tick(plan: TimerPlan, last_scheduled_ns: int, fired: int) -> int | None:
    """The tick after ``last_scheduled_ns`` once ``fired`` ticks have run; None when the timer is done."""
    if not plan.periodic:
        return None
    if plan.repeats is not None and fired >= plan.repeats:
        return None
    nxt = gregorian.add_calendar(last_scheduled_ns, plan.years, plan.months, plan.days) + plan.interval_ns
    if plan.expires_ns is not None and nxt > plan.expires_ns:
        return None
    return nxt


def fire_body(spec: TimerSpec) -> bytes:
    """The timer callback body; ``data`` is always present (``null`` when none) because the Python SDK reads it."""
    data = go_compact(spec.data) if spec.data is not None else b"null"
    return (
        b'{"callback":'
        + json.dumps(spec.callback).encode()
        + b',"data":'
        + data
        + b',"dueTime":'
        + json.dumps(spec.due_time).encode()
        + b',"period":'
        + json.dumps(spec.period).encode()
        + b"}"
    )


TimerFire = Callable[[TimerSpec], Awaitable[None]]


class _TimerEntry:
    def __init__(self, spec: TimerSpec) -> None:
        self.spec = spec
        self.task: asyncio.Task[None] | None = None
        self.firing = False
        self.stopped = False


class ActorTimers:
    """The live timers of this sidecar, keyed by (type, id, name)."""

    def __init__(self, clock: Clock, fire: TimerFire) -> None:
        self._clock = clock
        self._fire = fire
        self._entries: dict[tuple[str, str, str], _TimerEntry] = {}

    def create(self, spec: TimerSpec) -> None:
        """Start (or replace) a timer. Raises ValueError when its times cannot be read or it already expired."""
        plan = plan_timer(spec, self._clock.now_ns())
        self.delete(spec.actor_type, spec.actor_id, spec.name)
        entry = _TimerEntry(spec)
        self._entries[spec.key] = entry
        entry.task = asyncio.create_task(self._run(entry, plan), name=f"timer {spec.key}")

    def delete(self, actor_type: str, actor_id: str, name: str) -> bool:
        entry = self._entries.pop((actor_type, actor_id, name), None)
        if entry is None:
            return False
        self._stop(entry)
        return True

    def delete_actor(self, actor_type: str, actor_id: str) -> int:
        keys = [k for k in self._entries if k[0] == actor_type and k[1] == actor_id]
        for key in keys:
            self._stop(self._entries.pop(key))
        return len(keys)

    def active(self) -> list[TimerSpec]:
        return [entry.spec for entry in self._entries.values()]

    def get(self, actor_type: str, actor_id: str, name: str) -> TimerSpec | None:
        entry = self._entries.get((actor_type, actor_id, name))
        return entry.spec if entry is not None else None

    async def close(self) -> None:
        entries = list(self._entries.values())
        self._entries.clear()
        tasks = [e.task for e in entries if e.task is not None]
        for entry in entries:
            entry.stopped = True
            if entry.task is not None:
                entry.task.cancel()  # at shutdown an in-flight callback is abandoned
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _stop(self, entry: _TimerEntry) -> None:
        entry.stopped = True
        # A callback in flight is left to finish: the actor may be deleting its own timer from inside it.
        if entry.task is not None and not entry.firing:
            entry.task.cancel()

    async def _run(self, entry: _TimerEntry, plan: TimerPlan) -> None:
        spec = entry.spec
        scheduled = plan.first_ns
        fired = 0
        never = asyncio.Event()
        try:
            while not entry.stopped:
                await self._clock.sleep_until(scheduled, never)
                if entry.stopped:
                    return
                entry.firing = True
                try:
                    await self._fire(spec)
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    log.warning(
                        "actor timer callback failed",
                        extra={"actor_type": spec.actor_type, "actor_id": spec.actor_id, "timer": spec.name,
                               "error": str(err)},
                    )
                finally:
                    entry.firing = False
                fired += 1
                nxt = next_tick(plan, scheduled, fired)
                if nxt is None:
                    return
                # Missed ticks are not replayed in a burst: a late callback moves the next tick to now.
                scheduled = max(nxt, self._clock.now_ns())
        finally:
            if self._entries.get(spec.key) is entry:
                del self._entries[spec.key]
