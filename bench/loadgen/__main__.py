"""Entry point: ``python -m bench.loadgen KIND 'JSON-ARGS'``; prints ``LOADGEN-RESULT <json>`` as the last line."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from collections.abc import Callable
from typing import Any

from bench.loadgen.client import RESULT_MARK

LoadFn = Callable[[dict[str, Any]], Any]


# One loader per kind, each importing its module only when that kind runs, so a client process needs only its own
# dependencies (APScheduler for the peer, the SDK for registrations, ...).
def _sdk_register() -> LoadFn:
    from bench.loadgen.job_register import sdk_register

    return sdk_register


def _http_register() -> LoadFn:
    from bench.loadgen.job_register import http_register

    return http_register


def _app_direct() -> LoadFn:
    from bench.loadgen.app_feed import direct

    return direct


def _app_timed() -> LoadFn:
    from bench.loadgen.app_feed import timed

    return timed


def _etcd_create() -> LoadFn:
    from bench.loadgen.etcd_loops import create

    return create


def _etcd_complete() -> LoadFn:
    from bench.loadgen.etcd_loops import complete

    return complete


def _reminder_register() -> LoadFn:
    from bench.loadgen.reminder_clients import register

    return register


def _actor_direct() -> LoadFn:
    from bench.loadgen.reminder_clients import direct

    return direct


def _apscheduler() -> LoadFn:
    from bench.loadgen.peer_apscheduler import run

    return run


KINDS: dict[str, Callable[[], LoadFn]] = {
    "sdk-register": _sdk_register,
    "http-register": _http_register,
    "app-direct": _app_direct,
    "app-timed": _app_timed,
    "etcd-create": _etcd_create,
    "etcd-complete": _etcd_complete,
    "reminder-register": _reminder_register,
    "actor-direct": _actor_direct,
    "apscheduler": _apscheduler,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS:
        print(f"usage: python -m bench.loadgen {{{','.join(KINDS)}}} 'JSON-ARGS'", file=sys.stderr)
        return 2
    func = KINDS[argv[0]]()
    args = json.loads(argv[1])
    result = asyncio.run(func(args)) if inspect.iscoroutinefunction(func) else func(args)
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
