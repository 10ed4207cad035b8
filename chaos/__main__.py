"""``python -m chaos [--scenario NAME ...] [--keep-workdir]``: run the fault scenarios, print one table, exit 1 if
any scenario lost a job, delivered one early, or repeated one under another trigger id."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import pathlib
import shutil
import sys
import tempfile
import time

from chaos.faults import SCENARIOS, Scenario
from chaos.ledger import NS, Outcome, outcome, render
from chaos.stack import ChaosStack, steady_load
from tests.support.processes import ProcessSupervisor, signals_raise_system_exit

log = logging.getLogger("chaos")

# The load: one-shot jobs due at a steady rate from LEAD_S after scheduling, the fault FAULT_AT_S into it.
LEAD_S = 6.0
LOAD_S = 14.0
PER_SECOND = 40
FAULT_AT_S = 5.0
QUIET_S = 8.0


async def run_scenario(scenario: Scenario, workdir: pathlib.Path, per_second: int = PER_SECOND) -> Outcome:
    with ProcessSupervisor(workdir / "logs") as sup:
        stack = ChaosStack(workdir, sup)
        try:
            await stack.start(etcd_members=scenario.etcd_members, seed_only=scenario.seed_only)
            start_ns = time.time_ns() + int(LEAD_S * NS)
            await stack.schedule(steady_load("job", start_ns, LOAD_S, per_second))
            fault_ns = start_ns + int(FAULT_AT_S * NS)
            await asyncio.sleep(max(0.0, (fault_ns - time.time_ns()) / NS))
            note = await scenario.fault(stack, fault_ns)
            last_due = max(stack.ledger.due_ns.values(), default=fault_ns)
            await stack.settle(last_due, QUIET_S)
            return outcome(scenario.name, stack.ledger, fault_ns, note)
        finally:
            await stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS],
                        help="run only these (repeatable); default: all")
    parser.add_argument("--rate", type=int, default=PER_SECOND, help="one-shot jobs due per second")
    parser.add_argument("--keep-workdir", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    chosen = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    outcomes: list[Outcome] = []
    root = pathlib.Path(tempfile.mkdtemp(prefix="daprjobs-chaos-"))
    started = time.monotonic()
    with signals_raise_system_exit():
        for i, scenario in enumerate(chosen):
            print(f"[{i + 1}/{len(chosen)}] {scenario.name} ...", flush=True)
            result = asyncio.run(run_scenario(scenario, root / f"s{i}", args.rate))
            outcomes.append(result)
            print(render([result]).splitlines()[-1 if not result.note else -2], flush=True)
    failed = [o for o in outcomes if not o.passed]
    print(f"\nmake chaos, {datetime.date.today().isoformat()}, {time.monotonic() - started:.0f} s "
          f"({len(chosen)} scenarios; 3 replicas --lease-ttl 3, {int(LOAD_S * args.rate)} one-shot jobs "
          f"at {args.rate}/s per scenario)\n")
    print(render(outcomes))
    if failed or args.keep_workdir:
        print(f"\nlogs: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
