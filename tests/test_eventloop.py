"""The commands' event loop: uvloop when installed, the standard loop on request (flag or environment)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator

import pytest
from daprjobs import eventloop

uvloop = pytest.importorskip("uvloop")


@pytest.fixture(autouse=True)
def default_policy_after() -> Iterator[None]:
    yield
    asyncio.set_event_loop_policy(None)


async def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def loop_type_after(choice: str) -> type:
    eventloop.install(choice)
    return type(asyncio.run(_loop()))


def test_auto_and_uvloop_run_on_uvloop_asyncio_on_the_standard_loop() -> None:
    assert issubclass(loop_type_after("auto"), uvloop.Loop)
    assert issubclass(loop_type_after("uvloop"), uvloop.Loop)
    assert not issubclass(loop_type_after("asyncio"), uvloop.Loop)


def test_unknown_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event loop 'fast'"):
        eventloop.install("fast")


def test_the_standard_loop_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.ENV_VAR, raising=False)
    parser = argparse.ArgumentParser()
    eventloop.add_argument(parser)
    assert parser.parse_args([]).event_loop == "asyncio"


def test_the_environment_sets_the_default_and_the_flag_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.ENV_VAR, "uvloop")
    parser = argparse.ArgumentParser()
    eventloop.add_argument(parser)
    assert parser.parse_args([]).event_loop == "uvloop"
    assert parser.parse_args(["--event-loop", "asyncio"]).event_loop == "asyncio"
