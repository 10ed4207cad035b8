"""The SDK actor apps the actor integration tests run, the resources their sidecars load, and what the apps report.

Apps report what they saw (activations, reminders, timers) as JSON lines in an events file the tests read.
"""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

from tests.support.daprjobs_processes import SidecarProcess
from tests.support.processes import ChildProcess, child_env
from tests.support.waiting import Watched, eventually

APPS = pathlib.Path(__file__).parent / "apps"
NODE_DIR = pathlib.Path(__file__).parent.parent / "node"


class Events:
    """The JSON lines an actor app appends for each thing it saw."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def all(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line being written right now
        return out

    def of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.all() if e.get("kind") == kind and all(e.get(k) == v for k, v in match.items())]

    async def wait(self, kind: str, count: int = 1, timeout: float = 30.0, watch: list[Watched] | None = None,
                   **match: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await eventually(
            lambda: (lambda got: got if len(got) >= count else None)(self.of(kind, **match)),
            timeout, f"{count} x {kind} {match}", watch=watch or [],
        )
        return found


def python_app(tmp: pathlib.Path, script: str, sidecar: SidecarProcess, events: Events, name: str,
               extra_env: dict[str, str] | None = None) -> ChildProcess:
    """``apps/<script>`` as a child (not started) that talks to ``sidecar`` and reports into ``events``."""
    env = child_env(**sidecar.app_env(), ACTOR_EVENTS_FILE=str(events.path), **(extra_env or {}))
    return ChildProcess(name, [sys.executable, str(APPS / script)], tmp / f"{name}.log", env)
