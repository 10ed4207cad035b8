"""`daprjobs` command line: scheduler, sidecar, or both with an embedded etcd (`run`)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# command -> (module with add_arguments/main, help)
COMMANDS = {
    "run": ("daprjobs.run", "embedded etcd + scheduler + sidecar (+ your app after --), like `dapr run`"),
    "scheduler": ("daprjobs.scheduler.options", "one scheduler replica (the control plane)"),
    "sidecar": ("daprjobs.sidecar.options", "the Dapr runtime API for one app (the sidecar)"),
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
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.add_argument("--log-level", default="info", choices=["debug", "info", "warn", "warning", "error"])
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            sub_parser.set_defaults(_unavailable=str(exc))
            continue
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_module=module_name)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "_unavailable", None):
        parser.error(f"command {args.command!r} is unavailable: {args._unavailable}")
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    configure_logging("warning" if args.log_level == "warn" else args.log_level)
    module = importlib.import_module(args._module)
    return int(module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
