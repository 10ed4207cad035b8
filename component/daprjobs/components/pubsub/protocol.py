"""What a pub/sub broker component offers the pub/sub block: publish bytes to a topic, subscribe a handler.

The block builds and reads CloudEvents; a component only moves bytes and a string metadata map. A handler
answers whether the broker may forget the message (``True``: processed or deliberately dropped) or must
deliver it again later (``False``, or an exception, or no answer within the component's processing timeout).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class BrokerMessage:
    """One message as the broker hands it over."""

    topic: str
    data: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    # The broker's id for the message (a Redis stream entry id), for logs.
    broker_id: str = ""


MessageHandler = Callable[[BrokerMessage], Awaitable[bool]]


class PublishError(Exception):
    """The broker refused or could not take a message; ``str()`` is the broker's reason."""


class TopicSubscription(Protocol):
    """A running subscription of one handler to one topic."""

    topic: str

    async def close(self) -> None:
        """Stop reading; messages not yet acknowledged stay with the broker for redelivery."""
        ...


class PubSubComponent(Protocol):
    name: str
    type: str
    version: str
    # Dapr's pubsub feature names (``MESSAGE_TTL``, ``BULK_PUBLISH``, …); GetMetadata lists them as capabilities.
    features: Sequence[str]

    async def init(self) -> None:
        """Connect; raises if the broker cannot be reached or the metadata is wrong."""
        ...

    async def publish(self, topic: str, data: bytes, metadata: Mapping[str, str]) -> None:
        """Store the message durably with the broker before returning; raises ``PublishError``."""
        ...

    async def subscribe(self, topic: str, handler: MessageHandler) -> TopicSubscription: ...

    async def close(self) -> None: ...
