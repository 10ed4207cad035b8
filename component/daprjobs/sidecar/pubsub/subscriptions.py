"""Subscriptions of an app: programmatic (``GET /dapr/subscribe``, ``ListTopicSubscriptions``), declarative
(``Subscription`` resources, v1alpha1 and v2alpha1, with ``scopes``) and streaming; daprd's precedence.

Precedence (daprd ``ListSubscriptionsAppByPubSub``): per pubsub and topic the first declarative one wins among
declaratives, and a programmatic subscription replaces a declarative one.
"""

from __future__ import annotations

import enum
import logging
import pathlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from dapr.proto.runtime.v1 import appcallback_pb2

from daprjobs.sidecar.config import ResourceError, resource_files
from daprjobs.sidecar.pubsub.routing import Rule

log = logging.getLogger(__name__)


class SubscriptionKind(enum.IntEnum):
    """``PubsubSubscriptionType`` of GetMetadata."""

    DECLARATIVE = 1
    PROGRAMMATIC = 2
    STREAMING = 3


@dataclass(frozen=True)
class Subscription:
    pubsub: str
    topic: str
    rules: tuple[Rule, ...]
    kind: SubscriptionKind
    metadata: Mapping[str, str] = field(default_factory=dict)
    dead_letter_topic: str = ""

    @property
    def raw_payload(self) -> bool:
        return str(self.metadata.get("rawPayload", "")).lower() == "true"


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _routes(routes: Any, route: str) -> tuple[Rule, ...]:
    """Rules in order, then the default route, else the single ``route`` (daprd's order)."""
    rules: list[Rule] = []
    default = ""
    if isinstance(routes, dict):
        for item in routes.get("rules") or []:
            if isinstance(item, dict) and item.get("path"):
                rules.append(Rule(str(item.get("match") or ""), str(item["path"])))
        default = str(routes.get("default") or "")
    if default:
        rules.append(Rule("", default))
    elif route and not rules:
        rules.append(Rule("", route))
    return tuple(rules)


def from_http_app(items: Any, app_id: str) -> list[Subscription]:
    """The JSON array an HTTP app returns from ``GET /dapr/subscribe``."""
    if not isinstance(items, list):
        log.warning("app's /dapr/subscribe did not return a JSON array, no subscriptions app_id=%s", app_id)
        return []
    result = []
    for item in items:
        if not isinstance(item, dict) or not item.get("pubsubname") or not item.get("topic"):
            log.warning("app subscription without pubsubname or topic skipped app_id=%s item=%r", app_id, item)
            continue
        rules = _routes(item.get("routes"), str(item.get("route") or ""))
        if not rules:
            log.warning("app subscription has no route, skipped app_id=%s pubsub=%s topic=%s", app_id,
                        item["pubsubname"], item["topic"])
            continue
        result.append(Subscription(str(item["pubsubname"]), str(item["topic"]), rules, SubscriptionKind.PROGRAMMATIC,
                                   _str_map(item.get("metadata")), str(item.get("deadLetterTopic") or "")))
    return result


def from_grpc_app(response: appcallback_pb2.ListTopicSubscriptionsResponse) -> list[Subscription]:
    result = []
    for sub in response.subscriptions:
        rules = tuple(Rule(r.match, r.path) for r in sub.routes.rules)
        if sub.routes.default:
            rules += (Rule("", sub.routes.default),)
        if not rules:
            rules = (Rule("", ""),)
        result.append(Subscription(sub.pubsub_name, sub.topic, rules, SubscriptionKind.PROGRAMMATIC,
                                   dict(sub.metadata), sub.dead_letter_topic))
    return result


def _declarative(doc: dict[str, Any], source: pathlib.Path, app_id: str) -> Subscription | None:
    name = (doc.get("metadata") or {}).get("name", "?")
    scopes = doc.get("scopes") or []
    if scopes and app_id not in scopes:
        log.debug("subscription not scoped to this app name=%s app_id=%s", name, app_id)
        return None
    spec = doc.get("spec")
    if not isinstance(spec, dict) or not spec.get("pubsubname") or not spec.get("topic"):
        raise ResourceError(f"{source}: Subscription {name!r}: spec.pubsubname and spec.topic are required")
    if str(doc.get("apiVersion")) == "dapr.io/v1alpha1":
        rules = _routes({"default": spec.get("route")}, "")
    else:
        rules = _routes(spec.get("routes"), "")
    if not rules:
        raise ResourceError(f"{source}: Subscription {name!r}: no route (spec.route or spec.routes)")
    return Subscription(str(spec["pubsubname"]), str(spec["topic"]), rules, SubscriptionKind.DECLARATIVE,
                        _str_map(spec.get("metadata")), str(spec.get("deadLetterTopic") or ""))


def load_declarative(resources_path: pathlib.Path | None, app_id: str) -> list[Subscription]:
    """Every ``kind: Subscription`` scoped to ``app_id`` in the resource files, in file order."""
    if resources_path is None or not resources_path.exists():
        return []
    result = []
    for path in resource_files(resources_path):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except (yaml.YAMLError, OSError) as exc:
            raise ResourceError(f"{path}: cannot read: {exc}") from exc
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Subscription" \
                    and str(doc.get("apiVersion", "")).startswith("dapr.io/"):
                sub = _declarative(doc, path, app_id)
                if sub is not None:
                    result.append(sub)
    return result


def merge(declarative: Iterable[Subscription], programmatic: Iterable[Subscription]) -> list[Subscription]:
    chosen: dict[tuple[str, str], Subscription] = {}
    for sub in declarative:
        chosen.setdefault((sub.pubsub, sub.topic), sub)
    for sub in programmatic:
        chosen[(sub.pubsub, sub.topic)] = sub
    return list(chosen.values())


def describe_rules(rules: Sequence[Rule]) -> list[tuple[str, str]]:
    return [(r.match, r.path) for r in rules]
