"""Sidecar configuration: ``SidecarConfig`` and the Dapr resource loader (``--resources-path``).

Resource files are Dapr's (``apiVersion: dapr.io/v1alpha1``). daprjobs understands ``kind: Component``
of type ``state.etcd`` (the actor state store, ``actorStateStore: "true"``). Schema::

    apiVersion: dapr.io/v1alpha1
    kind: Component
    metadata:
      name: statestore            # required, unique
      namespace: default          # optional; components of another namespace are skipped (as in daprd)
    spec:
      type: state.etcd            # required
      version: v2                 # required
      metadata:                   # list of {name, value}; values are strings ("true", not true)
        - name: actorStateStore
          value: "true"
        - name: endpoints         # optional: host:port[,host:port]; `daprjobs run` supplies its etcd
          value: 127.0.0.1:2379
        - name: keyPrefixPath     # optional, etcd key prefix for state
          value: dapr

A metadata value may come from the environment (``secretKeyRef`` with ``auth.secretStore`` naming a
``secretstores.local.env`` component, or ``envRef``): see ``component_secrets``.
YAML documents without a ``dapr.io`` apiVersion are not Dapr resources and are skipped.
Anything else that is wrong is a ``ResourceError`` naming the file and the field.
"""

from __future__ import annotations

import logging
import pathlib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from daprjobs.security.link import PLAINTEXT, SchedulerLinkSecurity
from daprjobs.security.tls import ServerTls
from daprjobs.sidecar.component_secrets import SecretRef, secret_ref_of
from daprjobs.sidecar.component_secrets import resolve as resolve_secrets

log = logging.getLogger(__name__)

SUPPORTED_COMPONENT_TYPES = ("state.etcd", "state.redis", "state.in-memory", "pubsub.redis", "secretstores.local.env")
SUPPORTED_KINDS = ("Component",)
# Read by a building block from the same files (pub/sub parses Subscriptions), or not used by daprjobs.
PASSED_OVER_KINDS = ("Subscription", "Resiliency", "Configuration", "HTTPEndpoint")
DEFAULT_MAX_BODY_SIZE = 4 << 20

_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?\s*$")
_QUANTITY_FACTORS = {
    None: 1,
    "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
    "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}


class ResourceError(ValueError):
    """A resource file is invalid; the message names the file and the field."""


def parse_quantity(text: str) -> int:
    """A Kubernetes-style size such as ``4Mi``, ``512Ki``, ``10M`` or ``1048576`` (daprd's --max-body-size)."""
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"invalid size {text!r}: expected a number with an optional suffix such as Ki, Mi, Gi")
    number, suffix = match.groups()
    return int(float(number) * _QUANTITY_FACTORS[suffix])


@dataclass(frozen=True)
class ComponentResource:
    """One ``kind: Component`` from a resource file."""

    name: str
    type: str
    version: str
    # Never in repr: values may be secrets (secretKeyRef/envRef).
    metadata: dict[str, str] = field(repr=False)
    source: pathlib.Path
    namespace: str | None = None
    secret_refs: tuple[SecretRef, ...] = ()
    secret_store: str | None = None

    def flag(self, key: str) -> bool:
        return self.metadata.get(key, "").strip().lower() == "true"

    @property
    def is_actor_state_store(self) -> bool:
        return self.type.startswith("state.") and self.flag("actorStateStore")


@dataclass
class SidecarConfig:
    app_id: str
    app_port: int | None = None
    app_protocol: str = "http"
    app_host: str = "127.0.0.1"
    dapr_http_port: int = 3500
    dapr_grpc_port: int = 50001
    listen_host: str = "127.0.0.1"
    scheduler_host_addresses: list[str] = field(default_factory=list)
    scheduler_job_streams: int = 3
    resources_path: pathlib.Path | None = None
    resources: list[ComponentResource] = field(default_factory=list)
    namespace: str = "default"
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    metrics_port: int | None = 9090
    api_token: str | None = field(default=None, repr=False)
    app_api_token: str | None = field(default=None, repr=False)
    # etcd for actor state/placement: set by `daprjobs run`, else the state.etcd component's `endpoints`.
    etcd_endpoints: list[str] = field(default_factory=list)
    # How often the app port is probed, and how many failed probes make the app unhealthy.
    app_health_probe_interval_s: float = 1.0
    app_health_threshold: int = 2
    # How the sidecar reaches the Scheduler (TLS, client certificate, token) and serves its own gRPC API.
    scheduler_link: SchedulerLinkSecurity = PLAINTEXT
    grpc_tls: ServerTls | None = None

    def __post_init__(self) -> None:
        if not self.app_id:
            raise ValueError("--app-id is required")
        if self.app_protocol not in ("http", "grpc"):
            raise ValueError(f"--app-protocol must be http or grpc, not {self.app_protocol!r}")
        if self.scheduler_job_streams < 1:
            raise ValueError("--scheduler-job-streams must be at least 1")
        if self.max_body_size < 1:
            raise ValueError("--max-body-size must be positive")

    @property
    def actor_state_store(self) -> ComponentResource | None:
        for resource in self.resources:
            if resource.is_actor_state_store:
                return resource
        return None

    def resolved_etcd_endpoints(self) -> list[str]:
        """Flag/`run` endpoints win; otherwise the actor state store's `endpoints` metadata."""
        if self.etcd_endpoints:
            return list(self.etcd_endpoints)
        store = self.actor_state_store
        if store is None or not store.metadata.get("endpoints"):
            return []
        result = []
        for endpoint in store.metadata["endpoints"].split(","):
            endpoint = endpoint.strip()
            if endpoint:
                result.append(endpoint if "://" in endpoint else f"http://{endpoint}")
        return result


def _require_mapping(value: Any, where: str, source: pathlib.Path) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResourceError(f"{source}: {where} must be a mapping, got {type(value).__name__}")
    return value


def _require_string(mapping: dict[str, Any], key: str, where: str, source: pathlib.Path) -> str:
    value = mapping.get(key)
    if value is None or value == "":
        raise ResourceError(f"{source}: {where}.{key} is required")
    if not isinstance(value, str):
        raise ResourceError(f"{source}: {where}.{key} must be a string, got {value!r}")
    return value


def _parse_component(doc: dict[str, Any], source: pathlib.Path, index: int) -> ComponentResource:
    where = f"document {index}"
    meta = _require_mapping(doc.get("metadata"), f"{where} metadata", source)
    name = _require_string(meta, "name", "metadata", source)
    namespace = meta.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise ResourceError(f"{source}: component {name!r}: metadata.namespace must be a string")
    spec = _require_mapping(doc.get("spec"), f"component {name!r} spec", source)
    ctype = _require_string(spec, "type", "spec", source)
    if ctype not in SUPPORTED_COMPONENT_TYPES:
        raise ResourceError(
            f"{source}: component {name!r}: spec.type {ctype!r} is not supported by daprjobs "
            f"(supported: {', '.join(SUPPORTED_COMPONENT_TYPES)})"
        )
    version = _require_string(spec, "version", "spec", source)
    items = spec.get("metadata") or []
    if not isinstance(items, list):
        raise ResourceError(f"{source}: component {name!r}: spec.metadata must be a list of name/value entries")
    metadata: dict[str, str] = {}
    refs: list[SecretRef] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ResourceError(f"{source}: component {name!r}: spec.metadata[{i}] must be a mapping with name/value")
        key = item.get("name")
        if not isinstance(key, str) or not key:
            raise ResourceError(f"{source}: component {name!r}: spec.metadata[{i}].name is required")
        try:
            ref = secret_ref_of(item, key, f"{source}: component {name!r}: spec.metadata[{i}] ({key})")
        except ValueError as exc:
            raise ResourceError(str(exc)) from None
        if ref is not None:
            refs.append(ref)  # resolved once every file is loaded (the secret store may be in another)
            continue
        value = item.get("value", "")
        if isinstance(value, bool | int | float):
            # daprd's metadata values are strings; YAML `true` would be a silent surprise elsewhere.
            raise ResourceError(
                f"{source}: component {name!r}: spec.metadata[{i}] ({key}): value must be a string, "
                f"quote it: \"{str(value).lower() if isinstance(value, bool) else value}\""
            )
        if not isinstance(value, str):
            raise ResourceError(f"{source}: component {name!r}: spec.metadata[{i}] ({key}): value must be a string")
        if key in metadata:
            raise ResourceError(f"{source}: component {name!r}: spec.metadata[{i}]: duplicate name {key!r}")
        metadata[key] = value
    auth = doc.get("auth") or {}
    store = auth.get("secretStore") if isinstance(auth, dict) else None
    return ComponentResource(name=name, type=ctype, version=version, metadata=metadata, source=source,
                             namespace=namespace, secret_refs=tuple(refs), secret_store=store or None)


def load_resource_file(path: pathlib.Path) -> list[ComponentResource]:
    try:
        docs = list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError as exc:
        raise ResourceError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ResourceError(f"{path}: cannot read: {exc}") from exc
    components = []
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            continue
        api_version = doc.get("apiVersion")
        if not isinstance(api_version, str) or not api_version.startswith("dapr.io/"):
            log.debug("skipping non-Dapr YAML document file=%s document=%d", path, index)
            continue
        kind = doc.get("kind")
        if kind in PASSED_OVER_KINDS:
            continue
        if kind not in SUPPORTED_KINDS:
            raise ResourceError(
                f"{path}: document {index}: kind {kind!r} is not supported by daprjobs "
                f"(supported: {', '.join(SUPPORTED_KINDS)})"
            )
        components.append(_parse_component(doc, path, index))
    return components


def resource_files(resources_path: pathlib.Path) -> list[pathlib.Path]:
    """The YAML files of ``--resources-path``: a directory's ``*.yaml``/``*.yml`` (not recursive) or one file."""
    if resources_path.is_dir():
        return sorted(p for p in resources_path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [resources_path]


def load_resources(resources_path: pathlib.Path | None, namespace: str = "default") -> list[ComponentResource]:
    """Every Dapr resource in a directory (``*.yaml``/``*.yml``, not recursive) or a single file."""
    if resources_path is None:
        return []
    if not resources_path.exists():
        raise ResourceError(f"{resources_path}: --resources-path does not exist")
    files = resource_files(resources_path)
    result: list[ComponentResource] = []
    seen: dict[str, pathlib.Path] = {}
    for path in files:
        for component in load_resource_file(path):
            if component.namespace not in (None, "", namespace):
                log.info("skipping component of another namespace name=%s namespace=%s", component.name,
                         component.namespace)
                continue
            if component.name in seen:
                raise ResourceError(
                    f"{path}: component {component.name!r}: metadata.name is already used in {seen[component.name]}"
                )
            seen[component.name] = path
            result.append(component)
    try:
        result = resolve_secrets(result)
    except ValueError as exc:
        raise ResourceError(str(exc)) from None
    stores = [c for c in result if c.is_actor_state_store]
    if len(stores) > 1:
        raise ResourceError(
            f"{stores[1].source}: component {stores[1].name!r}: spec.metadata actorStateStore: only one component "
            f"may be the actor state store (also {stores[0].name!r} in {stores[0].source})"
        )
    return result
