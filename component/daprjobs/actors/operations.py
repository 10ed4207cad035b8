"""``ActorOperations``: what the actor API adapters (``actor_grpc``, ``actor_http``) call.

The adapters depend on these operations only, never on the runtime that assembles them.
"""

from __future__ import annotations

from dataclasses import dataclass

from daprjobs.actors.app_registration import ActorStreamHosting
from daprjobs.actors.invocation import ActorInvocation
from daprjobs.actors.reminder_delivery import ReminderDelivery
from daprjobs.actors.reminder_ops import ActorReminderOps
from daprjobs.actors.state_access import ActorStateAccess
from daprjobs.actors.timer_ops import ActorTimerOps


@dataclass(frozen=True)
class ActorOperations:
    invocation: ActorInvocation
    reminders: ActorReminderOps
    reminder_delivery: ReminderDelivery
    timers: ActorTimerOps
    state: ActorStateAccess
    streams: ActorStreamHosting
