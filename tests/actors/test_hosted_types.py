"""``HostedActorTypes``: what a registration change hands on, and how the gRPC actor stream's life is the
registration's."""

from __future__ import annotations

from daprjobs.actors.appconfig import ActorAppConfig
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.stream_host import StreamActorChannel


class Applied:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str]]] = []

    async def __call__(self, types: list[str], removed: list[str]) -> None:
        self.calls.append((types, removed))


def _config(*types: str) -> ActorAppConfig:
    return ActorAppConfig(entities=types)


async def test_a_change_is_applied_once_sorted_with_what_was_removed() -> None:
    applied = Applied()
    hosted = HostedActorTypes(applied, lambda: True)
    await hosted.set_types(["B", "A", "", "A"])
    await hosted.set_types(["A", "B"])  # no change: nothing applied
    await hosted.set_types(["A"])
    assert applied.calls == [(["A", "B"], []), (["A"], ["B"])]
    assert hosted.types() == ["A"] and hosted.is_hosted("A") and not hosted.is_hosted("B")


async def test_without_a_state_store_no_type_is_hosted() -> None:
    applied = Applied()
    hosted = HostedActorTypes(applied, lambda: False)
    await hosted.set_types(["A"])
    assert hosted.types() == [] and applied.calls == []


async def test_the_stream_registers_its_types_and_takes_them_when_it_closes() -> None:
    applied = Applied()
    hosted = HostedActorTypes(applied, lambda: True)
    first, second = StreamActorChannel(), StreamActorChannel()
    await hosted.stream_opened(_config("A"), first)
    assert hosted.channel() is first and hosted.types() == ["A"]
    await hosted.stream_opened(_config("B"), second)
    assert first.closed and hosted.channel() is second and hosted.types() == ["B"]
    await hosted.stream_closed(first)  # an old stream closing changes nothing
    assert hosted.types() == ["B"]
    await hosted.stream_closed(second)
    assert hosted.types() == [] and hosted.channel() is None
    assert applied.calls[-1] == ([], ["B"])


async def test_a_stream_closing_while_the_sidecar_stops_keeps_the_registration() -> None:
    applied = Applied()
    hosted = HostedActorTypes(applied, lambda: True)
    channel = StreamActorChannel()
    await hosted.stream_opened(_config("A"), channel)
    hosted.stop_tracking()
    hosted.close_stream()
    await hosted.stream_closed(channel)
    assert channel.closed and hosted.types() == ["A"]
    assert applied.calls == [(["A"], [])]
