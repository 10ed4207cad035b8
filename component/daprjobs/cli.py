"""`daprjobs` command line: scheduler, sidecar, or both with an embedded etcd (`run`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from daprjobs import eventloop, run
from daprjobs.scheduler import options as scheduler_options
from daprjobs.sidecar import options as sidecar_options


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    main: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "run": Command("embedded etcd + scheduler + sidecar (+ your app after --), like `dapr run`",
                   run.add_arguments, run.main),
    "scheduler": Command("one scheduler replica (the control plane)",
                         scheduler_options.add_arguments, scheduler_options.main),
    "sidecar": Command("the Dapr runtime API for one app (the sidecar)",
                       sidecar_options.add_command_arguments, sidecar_options.main),
}


class KeyValueFormatter(logging.Formatter):
    """`time level logger msg key=value...`: greppable, one line per event."""

    _std = set(vars(logging.makeLogRecord({})))

    def format(self, record: logging.LogRecord) -> str:
        base = f"{self.formatTime(record)} {record.levelname.lower()} {record.name} {record.getMessage()}"
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in self._std and k != "message")
        text = f"{base} {extras}" if extras else base
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # grpc and aiohttp are chatty at info.
    for noisy in ("aiohttp.access", "grpc", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="daprjobs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=command.help, description=command.help)
        sub_parser.add_argument("--log-level", default="info", choices=["debug", "info", "warn", "warning", "error"])
        eventloop.add_argument(sub_parser)
        command.add_arguments(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    configure_logging("warning" if args.log_level == "warn" else args.log_level)
    try:
        eventloop.install(args.event_loop)
    except ValueError as exc:
        parser.error(str(exc))
    return int(COMMANDS[args.command].main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
