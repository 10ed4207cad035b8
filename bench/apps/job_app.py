"""A `dapr.ext.grpc` app that counts job triggers and records when each one arrived.

Run as its own process, exactly as a user's app would be: ``python -m bench.apps.job_app --port P --names b-:1000``.
It registers one job handler per expected name (the SDK routes by job name and answers UNIMPLEMENTED for unknown
names), and the handler only appends ``(name, receive time, raw data)``: the bench measures the platform, so the app
does the least work a real handler could do. The due instant is in the data (see ``bench.duedata``) and is decoded
by the harness after the run, not on the hot path.

Three service-invocation methods, called by the harness straight over the app's gRPC port (``AppCallback/OnInvoke``)
let it read progress without a sidecar: ``bench-stats`` (JSON counts), ``bench-dump`` (writes every record to the
file named in the request data, one ``name<TAB>recv_ns<TAB>data`` line each) and ``bench-reset``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from dapr.ext.grpc import App, InvokeMethodRequest, JobEvent

# (job name, receive time ns, raw data bytes); list.append is atomic under the GIL, so the SDK's worker threads
# can share it without a lock.
_records: list[tuple[str, int, bytes]] = []


def _on_job(event: JobEvent) -> None:
    _records.append((event.name, time.time_ns(), event.data))


def parse_names(specs: list[str]) -> list[str]:
    """``PREFIX:COUNT`` specs to the job names ``PREFIX0 .. PREFIX<COUNT-1>``."""
    names: list[str] = []
    for spec in specs:
        prefix, _, count = spec.rpartition(":")
        names.extend(f"{prefix}{i}" for i in range(int(count)))
    return names


def build_app(names: list[str], on_job: Callable[[JobEvent], None] = _on_job) -> App:
    app = App()
    for name in names:
        app.job_event(name)(on_job)

    @app.method("bench-stats")
    def stats(_request: InvokeMethodRequest) -> str:
        # O(1): the harness polls this while triggers arrive, and must not slow the app down while it measures.
        count = len(_records)
        last = _records[count - 1][1] if count else 0
        return json.dumps({"count": count, "last_recv_ns": last})

    @app.method("bench-dump")
    def dump(request: InvokeMethodRequest) -> str:
        path = request.text()
        snapshot = list(_records)
        with open(path, "w", encoding="utf-8") as out:
            for name, recv_ns, data in snapshot:
                out.write(f"{name}\t{recv_ns}\t{data.decode('utf-8', 'replace')}\n")
        return json.dumps({"count": len(snapshot)})

    @app.method("bench-reset")
    def reset(_request: InvokeMethodRequest) -> str:
        _records.clear()
        return json.dumps({"count": 0})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--names", action="append", default=[], help="PREFIX:COUNT, repeatable")
    args = parser.parse_args()
    app = build_app(parse_names(args.names))
    app.run(args.port, listen_address="127.0.0.1")


if __name__ == "__main__":
    main()
