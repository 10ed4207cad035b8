"""Resource files and sizes: valid components load, invalid ones fail naming the file and field."""

from __future__ import annotations

import pathlib

import pytest
from daprjobs.sidecar.config import ResourceError, SidecarConfig, load_resources, parse_quantity

STORE = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.etcd
  version: v2
  metadata:
    - name: actorStateStore
      value: "true"
    - name: endpoints
      value: 127.0.0.1:2379,127.0.0.1:22379
"""


def write(tmp_path: pathlib.Path, text: str, name: str = "components.yaml") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_loads_the_actor_state_store(tmp_path: pathlib.Path) -> None:
    write(tmp_path, STORE)
    write(tmp_path, "name: not-dapr\nsteps: [1]\n", "other.yml")
    [component] = load_resources(tmp_path)
    assert component.name == "statestore" and component.type == "state.etcd"
    assert component.is_actor_state_store
    cfg = SidecarConfig(app_id="a", resources=[component])
    assert cfg.actor_state_store is component
    assert cfg.resolved_etcd_endpoints() == ["http://127.0.0.1:2379", "http://127.0.0.1:22379"]
    assert SidecarConfig(app_id="a", resources=[component], etcd_endpoints=["http://x:1"]).resolved_etcd_endpoints() \
        == ["http://x:1"]


def test_repo_components_yaml_loads() -> None:
    repo = pathlib.Path(__file__).resolve().parents[2]
    components = load_resources(repo / "components.yaml")
    assert any(c.is_actor_state_store for c in components)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (STORE.replace("kind: Component", "kind: Pipeline"), "kind"),
        (STORE.replace("state.etcd", "bindings.kafka"), "spec.type"),
        (STORE.replace("  name: statestore\n", "  labels: {}\n"), "metadata.name"),
        (STORE.replace("  version: v2\n", ""), "spec.version"),
        (STORE.replace('value: "true"', "value: true"), "spec.metadata[0]"),
        (STORE.replace("    - name: actorStateStore\n", "    - nam: actorStateStore\n"), "spec.metadata[0].name"),
        ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: [1]\n", "metadata"),
        ("apiVersion: dapr.io/v1alpha1\nkind: Component\n  bad: : yaml\n", "YAML"),
    ],
)
def test_invalid_resources_name_file_and_field(tmp_path: pathlib.Path, text: str, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ResourceError) as info:
        load_resources(tmp_path)
    assert str(path) in str(info.value)
    assert field in str(info.value)


def test_duplicate_names_are_refused(tmp_path: pathlib.Path) -> None:
    write(tmp_path, STORE, "a.yaml")
    write(tmp_path, STORE.replace('value: "true"', 'value: "false"'), "b.yaml")
    with pytest.raises(ResourceError, match="already used"):
        load_resources(tmp_path)


def test_other_namespace_is_skipped(tmp_path: pathlib.Path) -> None:
    write(tmp_path, STORE.replace("  name: statestore\n", "  name: statestore\n  namespace: prod\n"))
    assert load_resources(tmp_path, namespace="default") == []
    assert len(load_resources(tmp_path, namespace="prod")) == 1


def test_missing_path_is_an_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ResourceError, match="does not exist"):
        load_resources(tmp_path / "nope")


def test_quantities() -> None:
    assert parse_quantity("4Mi") == 4 << 20
    assert parse_quantity("512Ki") == 512 * 1024
    assert parse_quantity("10M") == 10_000_000
    assert parse_quantity("1048576") == 1048576
    with pytest.raises(ValueError):
        parse_quantity("4 MiB")


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="app-protocol"):
        SidecarConfig(app_id="a", app_protocol="ws")
    with pytest.raises(ValueError, match="app-id"):
        SidecarConfig(app_id="")
