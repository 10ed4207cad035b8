"""Component metadata from environment variables (secretKeyRef via secretstores.local.env, envRef), never shown."""

from __future__ import annotations

import logging
import pathlib

import pytest
from daprjobs.sidecar.config import ResourceError, load_resources

SECRET = "s3cret-Value-42"

ENV_STORE = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: envstore
spec:
  type: secretstores.local.env
  version: v1
  metadata:{store_metadata}
"""

REDIS = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisHost
      value: 127.0.0.1:6379
    - name: redisPassword
      secretKeyRef:
        name: {secret_name}{key_line}
{auth}"""


def write(tmp_path: pathlib.Path, *, secret_name: str = "REDIS_PASSWORD", key: str | None = None,
          auth: str = "auth:\n  secretStore: envstore\n", store_metadata: str = " []") -> pathlib.Path:
    key_line = f"\n        key: {key}" if key is not None else ""
    (tmp_path / "store.yaml").write_text(ENV_STORE.format(store_metadata=store_metadata))
    (tmp_path / "redis.yaml").write_text(REDIS.format(secret_name=secret_name, key_line=key_line, auth=auth))
    return tmp_path


def cache(components: list) -> object:  # type: ignore[type-arg]
    return next(c for c in components if c.name == "cache")


def test_secret_key_ref_reads_the_variable_through_the_env_store(tmp_path: pathlib.Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", SECRET)
    component = cache(load_resources(write(tmp_path)))
    assert component.metadata == {"redisHost": "127.0.0.1:6379", "redisPassword": SECRET}  # type: ignore[attr-defined]
    assert SECRET not in repr(component)


def test_the_key_may_repeat_the_name_and_the_store_prefix_applies(tmp_path: pathlib.Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP1_REDIS_PASSWORD", SECRET)
    prefixed = "\n    - name: prefix\n      value: APP1_"
    component = cache(load_resources(write(tmp_path, key="REDIS_PASSWORD", store_metadata=prefixed)))
    assert component.metadata["redisPassword"] == SECRET  # type: ignore[attr-defined]


def test_env_ref_needs_no_secret_store(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_USER", "app-user")
    (tmp_path / "redis.yaml").write_text(
        REDIS.format(secret_name="X", key_line="", auth="").replace(
            "      secretKeyRef:\n        name: X", "      envRef: REDIS_USER"))
    [component] = load_resources(tmp_path)
    assert component.metadata["redisPassword"] == "app-user"


@pytest.mark.parametrize(
    ("overrides", "env", "message"),
    [
        ({}, {}, "environment variable REDIS_PASSWORD is not set or empty"),
        ({"auth": ""}, {"REDIS_PASSWORD": SECRET}, "secretKeyRef needs auth.secretStore"),
        ({"auth": "auth:\n  secretStore: vault\n"}, {"REDIS_PASSWORD": SECRET}, "'vault' is not a loaded component"),
        ({"key": "password"}, {"REDIS_PASSWORD": SECRET}, "has one key"),
        ({"secret_name": "DAPR_API_TOKEN"}, {"DAPR_API_TOKEN": SECRET}, "DAPR_API_TOKEN may not be read"),
        ({"secret_name": "APP_API_TOKEN"}, {"APP_API_TOKEN": SECRET}, "APP_API_TOKEN may not be read"),
    ],
)
def test_an_unresolvable_reference_is_refused_naming_it_never_the_value(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, overrides: dict[str, str], env: dict[str, str],
    message: str,
) -> None:
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ResourceError) as err:
        load_resources(write(tmp_path, **overrides))
    text = str(err.value)
    assert message in text and "cache" in text and "redisPassword" in text
    assert SECRET not in text


def test_a_reference_with_a_value_too_is_refused(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path)
    redis = path / "redis.yaml"
    redis.write_text(redis.read_text().replace("      secretKeyRef:", "      value: plain\n      secretKeyRef:"))
    with pytest.raises(ResourceError, match="either value or secretKeyRef"):
        load_resources(path)


def test_resolved_secrets_are_not_logged(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", SECRET)
    caplog.set_level(logging.DEBUG)
    components = load_resources(write(tmp_path))
    logging.getLogger("test").info("loaded components=%s", components)
    assert cache(components).metadata["redisPassword"] == SECRET  # type: ignore[attr-defined]
    assert SECRET not in caplog.text
