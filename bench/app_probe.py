"""The harness's side channel into a bench app: progress, records and reset.

``AppProbe`` talks to the gRPC job app over its own port (``AppCallback/OnInvoke``); ``HttpAppProbe`` to the FastAPI
actor app over plain HTTP. Both return records as (name, receive ns, raw data) tuples.
"""

from __future__ import annotations

import json
import pathlib
import urllib.error
import urllib.request
from typing import Any, Protocol

import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2_grpc
from google.protobuf import any_pb2

Record = tuple[str, int, bytes]


class DeliveryProbe(Protocol):
    def ready(self) -> bool: ...
    def stats(self) -> dict[str, int]: ...
    def count(self) -> int: ...
    def dump(self, path: pathlib.Path) -> list[Record]: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


def read_dump(path: pathlib.Path) -> list[Record]:
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, recv, data = line.rstrip("\n").split("\t", 2)
            records.append((name, int(recv), data.encode()))
    return records


class AppProbe:
    def __init__(self, port: int) -> None:
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self._stub = appcallback_pb2_grpc.AppCallbackStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def _invoke(self, method: str, data: bytes = b"", timeout: float = 30.0) -> Any:
        resp = self._stub.OnInvoke(common_pb2.InvokeRequest(method=method, data=any_pb2.Any(value=data)),
                                   timeout=timeout)
        return json.loads(resp.data.value or b"{}")

    def ready(self) -> bool:
        try:
            self.stats()
            return True
        except grpc.RpcError:
            return False

    def stats(self) -> dict[str, int]:
        return dict(self._invoke("bench-stats", timeout=10.0))

    def count(self) -> int:
        return int(self.stats()["count"])

    def dump(self, path: pathlib.Path) -> list[Record]:
        """Every (name, receive ns, raw data) the app has recorded, via a file it writes."""
        self._invoke("bench-dump", str(path).encode(), timeout=120.0)
        return read_dump(path)

    def reset(self) -> None:
        self._invoke("bench-reset")


class HttpAppProbe:
    def __init__(self, port: int) -> None:
        self._base = f"http://127.0.0.1:{port}/bench"

    def close(self) -> None:
        pass

    def _call(self, path: str, body: bytes | None = None, timeout: float = 30.0) -> Any:
        req = urllib.request.Request(self._base + path, data=body, method="POST" if body is not None else "GET")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")

    def ready(self) -> bool:
        try:
            self.stats()
            return True
        except (urllib.error.URLError, OSError):
            return False

    def stats(self) -> dict[str, int]:
        return dict(self._call("/stats", timeout=10.0))

    def count(self) -> int:
        return int(self.stats()["count"])

    def dump(self, path: pathlib.Path) -> list[Record]:
        self._call("/dump", str(path).encode(), timeout=120.0)
        return read_dump(path)

    def reset(self) -> None:
        self._call("/reset", b"")
