"""Resources (Dapr component files) a sidecar under test loads with ``--resources-path``."""

from __future__ import annotations

import pathlib


def write_actor_state_store(directory: pathlib.Path, etcd_endpoint: str, key_prefix: str | None = "actorstate", *,
                            name: str = "actorstatestore", file_name: str = "components.yaml") -> pathlib.Path:
    """A ``state.etcd`` actor state store on ``etcd_endpoint`` in ``directory/file_name``; returns ``directory``.

    ``key_prefix`` None leaves ``keyPrefixPath`` to the component's default.
    """
    directory.mkdir(parents=True, exist_ok=True)
    metadata = {"endpoints": etcd_endpoint.split("://", 1)[-1]}
    if key_prefix is not None:
        metadata["keyPrefixPath"] = key_prefix
    metadata["actorStateStore"] = '"true"'
    items = "".join(f"    - name: {key}\n      value: {value}\n" for key, value in metadata.items())
    (directory / file_name).write_text(
        "apiVersion: dapr.io/v1alpha1\n"
        "kind: Component\n"
        "metadata:\n"
        f"  name: {name}\n"
        "spec:\n"
        "  type: state.etcd\n"
        "  version: v2\n"
        "  metadata:\n"
        f"{items}"
    )
    return directory
