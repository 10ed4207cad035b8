"""Which asyncio event loop the ``daprjobs`` commands run on: the standard one unless uvloop is asked for.

Measured in the bench (issue 12): uvloop raises burst throughput (trigger scenario 3,734 -> 4,577 triggers/s,
sidecar CPU per trigger 0.21 -> 0.17 ms) but at light load it delays deliveries by hundreds of ms (lateness at 500
jobs/s: p50 5 ms -> 270-420 ms, p99 26 ms -> 1.1 s), so it is opt-in: ``--event-loop uvloop`` (or
``DAPRJOBS_EVENT_LOOP=uvloop``; ``auto`` takes it when installed) for throughput-bound deployments. The optional
extra ``daprjobs[uvloop]`` installs it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

ENV_VAR = "DAPRJOBS_EVENT_LOOP"
CHOICES = ("auto", "uvloop", "asyncio")

log = logging.getLogger(__name__)


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--event-loop", choices=CHOICES, default=os.environ.get(ENV_VAR, "asyncio"),
                        help=f"asyncio event loop: the standard one (asyncio, the default), uvloop (faster bursts, "
                             f"later deliveries at light load), or auto (uvloop when installed); env {ENV_VAR}")


def install(choice: str) -> str:
    """Set the event loop policy for ``asyncio.run``; returns the loop chosen (``uvloop`` or ``asyncio``)."""
    if choice not in CHOICES:
        raise ValueError(f"unknown event loop {choice!r}: choose one of {', '.join(CHOICES)}")
    if choice == "asyncio":
        asyncio.set_event_loop_policy(None)
        return "asyncio"
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ValueError("--event-loop uvloop: uvloop is not installed (pip install uvloop)") from None
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"
