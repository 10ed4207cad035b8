"""Which asyncio event loop the ``daprjobs`` commands run on: uvloop when it is installed, unless turned off.

uvloop (a dependency) is taken for its speed on the trigger path: measured in the bench, see README's benchmark
notes. ``--event-loop asyncio`` (or ``DAPRJOBS_EVENT_LOOP=asyncio``) keeps the standard loop, e.g. to rule uvloop
out when chasing a problem; ``--event-loop uvloop`` insists on it.
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
    parser.add_argument("--event-loop", choices=CHOICES, default=os.environ.get(ENV_VAR, "auto"),
                        help=f"asyncio event loop: uvloop when installed (auto, the default), or the standard one "
                             f"(asyncio); env {ENV_VAR}")


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
