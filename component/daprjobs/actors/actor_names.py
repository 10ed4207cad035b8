"""Checks on the names an actor call carries (type, id, reminder and timer names), with daprd's errors."""

from __future__ import annotations

from daprjobs.actors import actor_errors
from daprjobs.core import names


def validate_actor(actor_type: str, actor_id: str) -> None:
    """An invocation's type and id: daprd's name rules, and neither may be empty (400)."""
    for label, value in (("actorType", actor_type), ("actorId", actor_id)):
        try:
            names.validate_actor_name(value)
        except ValueError as err:
            raise actor_errors.bad_request(f"invalid {label}: {err}") from None
        if not value:
            raise actor_errors.bad_request(f"invalid {label}: it must not be empty")


def validate_name(value: str) -> None:
    """A reminder or timer name (or the actor id it is registered on): daprd's name rules (400)."""
    try:
        names.validate_actor_name(value)
    except ValueError as err:
        raise actor_errors.bad_request(str(err)) from None
