"""Topic scopes of a pubsub component (daprd ``pkg/scopes``, ``IsOperationAllowed``).

Component metadata: ``allowedTopics`` (``t1,t2``: no other topic, for any app), ``protectedTopics`` (only apps
scoped to them), ``publishingScopes`` / ``subscriptionScopes`` (``app1=t1,t2;app2=t3``: an app listed there
may use only its topics; ``app1=`` allows it none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def _topics(text: str) -> frozenset[str]:
    return frozenset(t.strip() for t in text.split(",") if t.strip())


def _scoped(text: str, app_id: str) -> list[str] | None:
    """The topics ``app_id`` is scoped to, or None when the app is not listed."""
    found: list[str] | None = None
    for entry in text.split(";"):
        app, sep, topics = entry.partition("=")
        if sep and app.strip() == app_id:
            found = (found or []) + [t.strip() for t in topics.split(",")]
    return found


@dataclass(frozen=True)
class TopicScopes:
    allowed: frozenset[str]
    protected: frozenset[str]
    publishing: list[str] | None
    subscribing: list[str] | None

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], app_id: str) -> TopicScopes:
        return cls(_topics(metadata.get("allowedTopics", "")), _topics(metadata.get("protectedTopics", "")),
                   _scoped(metadata.get("publishingScopes", ""), app_id),
                   _scoped(metadata.get("subscriptionScopes", ""), app_id))

    def _allowed(self, topic: str, scoped: list[str] | None) -> bool:
        if self.allowed and topic not in self.allowed:
            return False
        if scoped is None:
            return topic not in self.protected
        return topic in scoped

    def may_publish(self, topic: str) -> bool:
        return self._allowed(topic, self.publishing)

    def may_subscribe(self, topic: str) -> bool:
        return self._allowed(topic, self.subscribing)
