"""The trigger dispatcher alone: routes, round robin, acks (including stale and duplicate ones) and dead streams."""

from __future__ import annotations

from daprjobs.proto.scheduler.v1 import scheduler_pb2 as pb
from daprjobs.scheduler.dispatcher import RouteKey, TriggerDispatcher, TriggerResult

ROUTE: RouteKey = ("app", "default", "app")


def _message(name: str) -> pb.WatchJobsResponse:
    return pb.WatchJobsResponse(name=name)


def test_send_without_a_stream_is_refused() -> None:
    dispatcher = TriggerDispatcher()
    results: list[TriggerResult] = []
    assert not dispatcher.send(ROUTE, _message("j"), results.append)
    assert not dispatcher.has_route(ROUTE)
    assert results == []


def test_triggers_go_round_robin_with_ids_unique_per_stream() -> None:
    dispatcher = TriggerDispatcher()
    a = dispatcher.new_stream("app", "default", [ROUTE])
    b = dispatcher.new_stream("app", "default", [ROUTE])
    dispatcher.register(a)
    dispatcher.register(b)
    for i in range(4):
        assert dispatcher.send(ROUTE, _message(f"j{i}"), lambda _r: None)
    got_a = [a.outbox.get_nowait() for _ in range(a.outbox.qsize())]
    got_b = [b.outbox.get_nowait() for _ in range(b.outbox.qsize())]
    assert [m.name for m in got_a] == ["j0", "j2"]
    assert [m.name for m in got_b] == ["j1", "j3"]
    assert [m.id for m in got_a] == [1, 2]
    assert sorted(a.inflight) == [1, 2]


def test_an_ack_resolves_its_trigger_once_and_a_stale_or_unknown_ack_is_ignored() -> None:
    dispatcher = TriggerDispatcher()
    stream = dispatcher.new_stream("app", "default", [ROUTE])
    dispatcher.register(stream)
    results: list[tuple[str, TriggerResult]] = []
    dispatcher.send(ROUTE, _message("ok"), lambda r: results.append(("ok", r)))
    dispatcher.send(ROUTE, _message("bad"), lambda r: results.append(("bad", r)))
    dispatcher.ack(stream, 2, pb.FAILED)
    dispatcher.ack(stream, 1, pb.SUCCESS)
    dispatcher.ack(stream, 1, pb.SUCCESS)  # duplicate
    dispatcher.ack(stream, 99, pb.SUCCESS)  # never sent
    assert results == [("bad", TriggerResult.FAILED), ("ok", TriggerResult.SUCCESS)]
    assert stream.inflight == {}


def test_a_dead_stream_resolves_its_triggers_undeliverable_and_leaves_its_routes() -> None:
    dispatcher = TriggerDispatcher()
    stream = dispatcher.new_stream("app", "default", [ROUTE])
    dispatcher.register(stream)
    results: list[TriggerResult] = []
    dispatcher.send(ROUTE, _message("j"), results.append)
    dispatcher.unregister(stream)
    dispatcher.unregister(stream)  # twice is harmless
    assert results == [TriggerResult.UNDELIVERABLE]
    assert not dispatcher.has_route(ROUTE)
    assert dispatcher.connected_streams() == 0
    dispatcher.ack(stream, 1, pb.SUCCESS)  # an ack racing the stream's death
    assert results == [TriggerResult.UNDELIVERABLE]


def test_route_listeners_hear_only_of_a_route_becoming_available() -> None:
    dispatcher = TriggerDispatcher()
    heard: list[RouteKey] = []
    dispatcher.on_route_available(heard.append)
    first = dispatcher.new_stream("app", "default", [ROUTE])
    dispatcher.register(first)
    dispatcher.register(dispatcher.new_stream("app", "default", [ROUTE]))
    assert heard == [ROUTE]
    dispatcher.unregister(first)
    assert dispatcher.has_route(ROUTE), "the second stream still serves it"
