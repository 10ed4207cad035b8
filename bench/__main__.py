"""``python -m bench [--scenario NAME] [--quick]``: run the daprjobs benchmarks, print one table, write JSON.

Each scenario starts its own etcd, scheduler(s), sidecar and SDK app as separate processes on 127.0.0.1, measures,
measures the matching ceiling in the same run, and stops everything it started. Results go to
``bench/results/<time>-<scenarios>.json``; logs of every process stay in the work directory when a scenario fails
(or with ``--keep-workdir``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.procstat import UsageSampler
from bench.profiling import render as render_profiles
from bench.report import ScenarioResult, machine_info, render_table, write_json
from bench.scenario import RunOptions, ScenarioContext, ScenarioFn
from bench.scenarios import (
    daprjobs_run,
    invoke,
    lateness,
    peer,
    pubsub,
    recurring,
    register,
    reminders,
    replicas,
    scale,
    state,
    trigger,
)
from tests.support.processes import PortAllocator, ProcessSupervisor, signals_raise_system_exit

RESULTS_DIR = Path(__file__).resolve().parent / "results"
log = logging.getLogger("bench")

# Scenario name -> function, in the order ``make bench`` runs them.
SCENARIOS: dict[str, ScenarioFn] = {
    "register": register.run,
    "trigger": trigger.run,
    "run": daprjobs_run.run,
    "lateness": lateness.run,
    "recurring": recurring.run,
    "scale": scale.run,
    "replicas": replicas.run,
    "reminders": reminders.run,
    "peer": peer.run,
    "invoke": invoke.run,
    "pubsub": pubsub.run,
    "state": state.run,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    names = list(SCENARIOS)
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", action="append", default=[],
                   help=f"run only these (repeatable or comma-separated): {', '.join(names)}")
    p.add_argument("--quick", action="store_true", help="small sizes: each scenario in under a minute")
    p.add_argument("--count-scale", type=float, default=1.0,
                   help="multiply every job count (e.g. 0.01 with --quick for a smoke run); durations unchanged")
    p.add_argument("--workdir", type=Path, default=None, help="where etcd data and logs go (default: a temp dir)")
    p.add_argument("--keep-workdir", action="store_true", help="keep data and logs even when everything passed")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    p.add_argument("--profile", action="store_true", help="py-spy the scheduler and sidecar while measuring")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    chosen = [n.strip() for spec in args.scenario for n in spec.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in names]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    args.scenarios = [n for n in names if n in chosen] if chosen else names
    return args


def run_scenario(name: str, opts: RunOptions, earlier: dict[str, ScenarioResult]) -> ScenarioResult:
    fn = SCENARIOS[name]
    workdir = opts.workdir / name
    workdir.mkdir(parents=True, exist_ok=True)
    result = ScenarioResult(scenario=name, size={"quick": opts.quick, "count_scale": opts.count_scale})
    sampler = UsageSampler()
    started = time.monotonic()
    with ProcessSupervisor(workdir / "logs") as sup:
        ctx = ScenarioContext(name=name, opts=opts, sup=sup, ports=PortAllocator(), workdir=workdir, result=result,
                              sampler=sampler.start(), earlier=earlier)
        try:
            fn(ctx)
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"
            result.details["traceback"] = traceback.format_exc()
            log.error("scenario %s failed: %s\n%s", name, exc, traceback.format_exc())
        finally:
            result.usage = {k: u.as_dict() for k, u in sampler.stop().items()}
    result.elapsed_s = time.monotonic() - started
    result.details["workdir"] = str(workdir)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="daprjobs-bench-")) if own_workdir else args.workdir
    opts = RunOptions(quick=args.quick, count_scale=args.count_scale, workdir=workdir, profile=args.profile)
    machine = machine_info()
    results: list[ScenarioResult] = []
    earlier: dict[str, ScenarioResult] = {}
    with signals_raise_system_exit():
        for name in args.scenarios:
            log.info("scenario %s starting (quick=%s, count_scale=%s)", name, opts.quick, opts.count_scale)
            res = run_scenario(name, opts, earlier)
            outcome = f"failed: {res.error}" if res.error else "done"
            log.info("scenario %s %s in %.1fs", name, outcome, res.elapsed_s)
            results.append(res)
            earlier[name] = res
    print(render_table(results))
    if args.profile:
        for res in results:
            if res.details.get("profiles"):
                print(f"\n[{res.scenario}] py-spy profiles (on-CPU samples)")
                print(render_profiles(res.details["profiles"]))
    for res in results:
        for note in res.notes:
            print(f"[{res.scenario}] {note}")
    path = write_json(results, args.results_dir, ["python", "-m", "bench", *(argv or sys.argv[1:])], opts.quick,
                      machine)
    print(f"results: {path}")
    failed = any(r.error for r in results)
    if own_workdir and not failed and not args.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"work directory (logs, data): {workdir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
