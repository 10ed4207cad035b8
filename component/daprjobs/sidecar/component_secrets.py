"""Component metadata from environment variables: ``secretKeyRef`` through a ``secretstores.local.env`` component,
and ``envRef``, as daprd resolves them.

::

    spec:
      type: state.redis
      metadata:
        - name: redisPassword
          secretKeyRef:
            name: REDIS_PASSWORD      # the variable (after the env store's optional ``prefix``)
            key: REDIS_PASSWORD       # optional: a local.env secret has one key, its own name
        - name: redisUsername
          envRef: REDIS_USERNAME      # no secret store needed
    auth:
      secretStore: envstore           # a component of type secretstores.local.env

Deliberate difference: daprd leaves the value empty (and warns) when the variable is unset, the key is not the
secret's or the store is missing; daprjobs refuses the resource at start, naming the component, the metadata item and
the variable, never the value. Like daprd, ``DAPR_*`` variables and ``APP_API_TOKEN`` are never readable this way.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daprjobs.sidecar.config import ComponentResource

ENV_SECRET_STORE_TYPE = "secretstores.local.env"


@dataclass(frozen=True)
class SecretRef:
    """One metadata item whose value comes from the environment: ``secretKeyRef`` (``env_ref`` False) or ``envRef``."""

    item: str
    name: str
    key: str = ""
    env_ref: bool = False


def secret_ref_of(item: Mapping[str, Any], key: str, where: str) -> SecretRef | None:
    """The reference a metadata item carries instead of a ``value``, or None; ``where`` prefixes errors."""
    ref, env = item.get("secretKeyRef"), item.get("envRef")
    if ref is None and env is None:
        return None
    if "value" in item and item.get("value") not in (None, ""):
        raise ValueError(f"{where}: give either value or secretKeyRef/envRef, not both")
    if env is not None:
        if not isinstance(env, str) or not env:
            raise ValueError(f"{where}: envRef must be the name of an environment variable")
        return SecretRef(key, env, env_ref=True)
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not ref["name"]:
        raise ValueError(f"{where}: secretKeyRef needs a name (the secret's)")
    secret_key = ref.get("key", "")
    if not isinstance(secret_key, str):
        raise ValueError(f"{where}: secretKeyRef.key must be a string")
    return SecretRef(key, ref["name"], secret_key)


def readable(variable: str) -> bool:
    """daprd's rule: never DAPR_* (its own settings and tokens), APP_API_TOKEN, or names with spaces."""
    upper = variable.upper()
    return bool(upper) and upper != "APP_API_TOKEN" and not upper.startswith("DAPR_") and " " not in upper


def _env_value(component: ComponentResource, ref: SecretRef, variable: str, env: Mapping[str, str]) -> str:
    where = f"{component.source}: component {component.name!r}: spec.metadata {ref.item}"
    if not readable(variable):
        raise ValueError(f"{where}: environment variable {variable} may not be read (DAPR_* and APP_API_TOKEN "
                         "are never given to components)")
    value = env.get(variable, "")
    if not value:
        raise ValueError(f"{where}: environment variable {variable} is not set or empty")
    return value


def _store_prefix(component: ComponentResource, ref: SecretRef, stores: Mapping[str, ComponentResource]) -> str:
    where = f"{component.source}: component {component.name!r}: spec.metadata {ref.item}"
    if not component.secret_store:
        raise ValueError(f"{where}: secretKeyRef needs auth.secretStore (a {ENV_SECRET_STORE_TYPE} component)")
    store = stores.get(component.secret_store)
    if store is None:
        raise ValueError(f"{where}: auth.secretStore {component.secret_store!r} is not a loaded component")
    if store.type != ENV_SECRET_STORE_TYPE:
        raise ValueError(f"{where}: auth.secretStore {component.secret_store!r} is {store.type}; daprjobs reads "
                         f"secrets only from {ENV_SECRET_STORE_TYPE}")
    return store.metadata.get("prefix", "")


def resolve(components: Sequence[ComponentResource],
            env: Mapping[str, str] | None = None) -> list[ComponentResource]:
    """The components with every reference replaced by its value; ``ValueError`` naming what is missing."""
    environ = os.environ if env is None else env
    stores = {c.name: c for c in components}
    resolved: list[ComponentResource] = []
    for component in components:
        if not component.secret_refs:
            resolved.append(component)
            continue
        values = dict(component.metadata)
        for ref in component.secret_refs:
            if ref.env_ref:
                values[ref.item] = _env_value(component, ref, ref.name, environ)
                continue
            if ref.key not in ("", ref.name):
                raise ValueError(f"{component.source}: component {component.name!r}: spec.metadata {ref.item}: "
                                 f"secretKeyRef.key {ref.key!r}: a {ENV_SECRET_STORE_TYPE} secret has one key, "
                                 f"its name {ref.name!r}")
            prefix = _store_prefix(component, ref, stores)
            values[ref.item] = _env_value(component, ref, prefix + ref.name, environ)
        resolved.append(dataclasses.replace(component, metadata=values))
    return resolved
