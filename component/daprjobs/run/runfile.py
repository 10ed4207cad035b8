"""The Dapr CLI's multi-app run file (``dapr run -f``): ``version: 1``, ``common:`` and ``apps:``.

Fields read (the CLI's names): ``appID``, ``appDirPath`` (required; the app's working directory), ``appPort``,
``appProtocol``, ``command`` (list), ``env`` (map), ``resourcesPath`` / ``resourcesPaths`` (first one used),
``daprHTTPPort``, ``daprGRPCPort``, ``metricsPort``, ``appChannelAddress``. ``common:`` gives defaults for every app
(``env`` maps are merged, the app's entries win). Relative paths are relative to the run file's directory; a
directory given as ``-f`` means its ``dapr.yaml``. Other CLI fields are accepted and not used.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import yaml


class RunFileError(ValueError):
    """The run file is invalid; the message names the file and the field."""


@dataclass
class RunFileApp:
    app_id: str
    app_dir: pathlib.Path
    command: list[str]
    app_port: int | None = None
    app_protocol: str = "http"
    app_host: str = "127.0.0.1"
    resources_path: pathlib.Path | None = None
    dapr_http_port: int = 0
    dapr_grpc_port: int = 0
    metrics_port: int = 0
    env: dict[str, str] = field(default_factory=dict)


def _int(value: Any, where: str, path: pathlib.Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RunFileError(f"{path}: {where} must be a port number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise RunFileError(f"{path}: {where} must be a port number, got {value!r}") from None


def _env(value: Any, where: str, path: pathlib.Path) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RunFileError(f"{path}: {where}.env must be a mapping of names to values")
    # YAML `DEBUG: true` is the CLI's own example: values become strings as the CLI passes them.
    return {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in value.items()}


def _resources(entry: dict[str, Any], base: pathlib.Path) -> pathlib.Path | None:
    value = entry.get("resourcesPath") or entry.get("resourcesPaths")
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and "," in value:
        value = value.split(",")[0].strip()
    return (base / value).resolve() if value else None


def _app(entry: Any, index: int, common: dict[str, Any], base: pathlib.Path, path: pathlib.Path) -> RunFileApp:
    where = f"apps[{index}]"
    if not isinstance(entry, dict):
        raise RunFileError(f"{path}: {where} must be a mapping")
    merged = {**common, **entry}
    app_dir_text = merged.get("appDirPath")
    if not isinstance(app_dir_text, str) or not app_dir_text:
        raise RunFileError(f"{path}: {where}.appDirPath is required")
    app_dir = (base / app_dir_text).resolve()
    if not app_dir.is_dir():
        raise RunFileError(f"{path}: {where}.appDirPath {app_dir} is not a directory")
    app_id = merged.get("appID") or app_dir.name
    if not isinstance(app_id, str) or "." in app_id:
        raise RunFileError(f"{path}: {where}.appID must be a string without dots, got {app_id!r}")
    command = merged.get("command") or []
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise RunFileError(f"{path}: {where}.command must be a list of strings")
    protocol = merged.get("appProtocol", "http")
    if protocol not in ("http", "grpc"):
        raise RunFileError(f"{path}: {where}.appProtocol must be http or grpc, got {protocol!r}")
    ports = {key: _int(merged[key], f"{where}.{key}", path) if merged.get(key) is not None else 0
             for key in ("appPort", "daprHTTPPort", "daprGRPCPort", "metricsPort")}
    return RunFileApp(
        app_id=app_id, app_dir=app_dir, command=list(command), app_port=ports["appPort"] or None,
        app_protocol=protocol, app_host=str(merged.get("appChannelAddress") or "127.0.0.1"),
        resources_path=_resources(merged, base), dapr_http_port=ports["daprHTTPPort"],
        dapr_grpc_port=ports["daprGRPCPort"], metrics_port=ports["metricsPort"],
        env={**_env(common.get("env"), "common", path), **_env(entry.get("env"), where, path)},
    )


def load_run_file(given: pathlib.Path) -> list[RunFileApp]:
    path = given / "dapr.yaml" if given.is_dir() else given
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RunFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RunFileError(f"{path}: must be a mapping with version and apps")
    if doc.get("version") != 1:
        raise RunFileError(f"{path}: version must be 1, got {doc.get('version')!r}")
    common = doc.get("common") or {}
    if not isinstance(common, dict):
        raise RunFileError(f"{path}: common must be a mapping")
    apps = doc.get("apps")
    if not isinstance(apps, list) or not apps:
        raise RunFileError(f"{path}: apps must be a non-empty list")
    base = path.parent.resolve()
    result = [_app(entry, i, common, base, path) for i, entry in enumerate(apps)]
    seen: set[str] = set()
    for app in result:
        if app.app_id in seen:
            raise RunFileError(f"{path}: appID {app.app_id!r} is used twice")
        seen.add(app.app_id)
    return result
