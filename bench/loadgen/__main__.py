"""Entry point: ``python -m bench.loadgen KIND 'JSON-ARGS'``; prints ``LOADGEN-RESULT <json>`` as the last line."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
from collections.abc import Callable
from typing import Any

from bench.loadgen.client import RESULT_MARK

# kind -> (module, function); modules are imported only when used, so a client needs only its own dependencies.
KINDS: dict[str, tuple[str, str]] = {
    "sdk-register": ("bench.loadgen.job_register", "sdk_register"),
    "http-register": ("bench.loadgen.job_register", "http_register"),
    "app-direct": ("bench.loadgen.app_feed", "direct"),
    "app-timed": ("bench.loadgen.app_feed", "timed"),
    "etcd-create": ("bench.loadgen.etcd_loops", "create"),
    "etcd-complete": ("bench.loadgen.etcd_loops", "complete"),
    "reminder-register": ("bench.loadgen.reminder_clients", "register"),
    "actor-direct": ("bench.loadgen.reminder_clients", "direct"),
    "apscheduler": ("bench.loadgen.peer_apscheduler", "run"),
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS:
        print(f"usage: python -m bench.loadgen {{{','.join(KINDS)}}} 'JSON-ARGS'", file=sys.stderr)
        return 2
    module_name, func_name = KINDS[argv[0]]
    func: Callable[[dict[str, Any]], Any] = getattr(importlib.import_module(module_name), func_name)
    args = json.loads(argv[1])
    result = asyncio.run(func(args)) if inspect.iscoroutinefunction(func) else func(args)
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
