"""daprd's state key scheme (``pkg/components/state/state_config.go``): what key a store really sees.

The component's ``keyPrefix`` metadata picks the prefix: ``appid`` (default) ``<app-id>||<key>``, ``name``
``<store name>||<key>``, ``namespace`` ``<namespace>.<app-id>||<key>``, ``none`` the bare key, anything else
``<that text>||<key>``. Neither a key nor a custom prefix may contain ``||``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SEPARATOR = "||"
KEY_PREFIX_METADATA = "keyPrefix"


class IllegalKey(ValueError):
    """A key (or keyPrefix) containing ``||``; the text is daprd's."""

    def __init__(self, key: str) -> None:
        super().__init__(f"input key/keyPrefix '{key}' can't contain '{SEPARATOR}'")
        self.key = key


def check_key(key: str) -> None:
    if SEPARATOR in key:
        raise IllegalKey(key)


@dataclass(frozen=True)
class KeyScheme:
    store_name: str
    app_id: str
    namespace: str = ""
    strategy: str = "appid"

    @classmethod
    def from_metadata(cls, store_name: str, metadata: Mapping[str, str], app_id: str, namespace: str) -> KeyScheme:
        """The scheme of a component; its ``keyPrefix`` is matched case-insensitively, as daprd does."""
        strategy = "appid"
        for name, value in metadata.items():
            if name.lower() == KEY_PREFIX_METADATA.lower():
                strategy = value.lower()
                break
        check_key(strategy)
        return cls(store_name=store_name, app_id=app_id, namespace=namespace, strategy=strategy)

    def store_key(self, key: str) -> str:
        """The key in the store for the app's ``key``; raises ``IllegalKey``."""
        check_key(key)
        if self.strategy == "none":
            return key
        if self.strategy == "name":
            return f"{self.store_name}{SEPARATOR}{key}"
        if self.strategy == "appid":
            return f"{self.app_id}{SEPARATOR}{key}" if self.app_id else key
        if self.strategy == "namespace":
            if not self.app_id:
                return key
            prefix = f"{self.namespace}.{self.app_id}" if self.namespace else self.app_id
            return f"{prefix}{SEPARATOR}{key}"
        return f"{self.strategy}{SEPARATOR}{key}"


def app_key(store_key: str) -> str:
    """daprd's GetOriginalStateKey: the second ``||`` field, or the whole key when there is none."""
    parts = store_key.split(SEPARATOR, 2)
    return parts[1] if len(parts) > 1 else store_key
