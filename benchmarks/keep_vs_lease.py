"""What does the keep-vs-lease worked example cost at full colossus scale?

Issue 13 section 6: the seed case (``neocloud plan keep-vs-lease --seed colossus``:
colossus-1 + colossus-2, 780,032 GPUs on 170,008 nodes; the Philly list's 111,549 jobs
scaled to the fleet as the internal work; colossus-1's pods as the candidates; the seed
deal's terms) over five fractions, run by each executor asked for: ``here`` (one
fraction after another in this process, ``--workers 1``), ``local`` (``--workers N``
spawned processes) and ``ray`` (a local Ray instance with N CPUs, ``--ray local``).
Each executor runs in a fresh process of its own (``--one NAME``), so its memory is its
own: the table gives each fraction's figures once and each executor's wall time, that
process's CPU time, its peak memory and its largest reaped child's (spawned workers;
for Ray, Ray's own processes: its workers are not reaped children); the figures must
be the same for every executor. The JSON has the study; ``--profile`` adds where
``here``'s time goes.

    .venv/bin/python benchmarks/keep_vs_lease.py [--executors here,local,ray] [--workers 2]
        [--fractions 0,0.25,0.5,0.75,1] [--window A:B] [--internal-load 1] [--profile]
        [--out /tmp/keep_vs_lease.json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _sim_bench import machine, profile_table  # beside this script

REPO = Path(__file__).resolve().parents[1]
EXECUTORS = {"here": ["--workers", "1"], "local": ["--workers", "{n}"], "ray": ["--ray", "local", "--workers", "{n}"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executors", default="here,local,ray")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fractions", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--window", default=None)
    parser.add_argument("--internal-load", default="1")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/keep_vs_lease.json"))
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # run one executor, print its JSON
    args = parser.parse_args()
    executors = args.executors.split(",")
    if unknown := [e for e in executors if e not in EXECUTORS]:
        sys.exit(f"--executors: {unknown} not among {', '.join(EXECUTORS)}")
    trace = REPO.parent / "shared" / "traces" / "microsoft-philly-2017" / "derived_rfold_philly_trace.csv.gz"
    if not trace.is_file():
        sys.exit(f"no Philly trace at {trace}")
    cmd = ["plan", "keep-vs-lease", "--seed", "colossus", "--internal", f"philly:{trace}"]
    cmd += ["--fractions", args.fractions, "--internal-load", args.internal_load, "--json"]
    if args.window:
        cmd += ["--window", args.window]
    if args.one:
        print(json.dumps(_run(cmd, args.one, args.workers, args.profile and args.one == "here")))
        return
    runs = [_in_own_process(name, sys.argv[1:]) for name in executors]
    study = runs[0]["study"]
    same = all(r["study"] == study for r in runs)
    print(f"{'leased':>7}{'kept GPUs':>11}{'jobs':>9}{'JCT h':>8}{'wait h':>8}{'delay h':>9}{'NPV B':>8}")
    for o in study["options"]:
        i = o["internal"]
        print(
            f"{o['fraction']:>7.0%}{o['kept_gpus']:>11,}{i['jobs']:>9,}{i['jct_mean_s'] / 3600:>8.2f}"
            f"{i['queue_mean_s'] / 3600:>8.2f}{i['delay_mean_s'] / 3600:>9.2f}{float(o['lease']['npv']) / 1e9:>8.2f}"
        )
    print(f"recommendation: {study['recommendation']}")
    print(f"\n{'executor':<26}{'wall s':>8}{'CPU s':>8}{'RSS MB':>8}{'child MB':>9}  load")
    for r in runs:
        print(
            f"{r['executor']:<26}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}{r['peak_rss_mb']:>8.0f}"
            f"{r['peak_child_rss_mb']:>9.0f}  {r['load_before']:.1f} -> {r['load_after']:.1f}"
        )
    print(f"the same figures from every executor: {'yes' if same else 'NO'}")
    result = {"machine": machine(), "command": cmd, "same_figures": same, "runs": runs}
    if any(r["profile"] for r in runs):
        print(f"\nwhere the time goes (cProfile, own time, here):\n{runs[0]['profile']}")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    if not same:
        sys.exit("the executors' figures differ")


def _in_own_process(name: str, argv: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *argv, "--one", name], check=False, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.exit(f"{name}: exit {done.returncode}")
    return json.loads(done.stdout.splitlines()[-1])


def _run(cmd: list[str], name: str, workers: int, profile: bool) -> dict[str, Any]:
    from typer.testing import CliRunner

    from neocloud.cli.main import app

    full = cmd + [a.format(n=workers) for a in EXECUTORS[name]]
    prof = cProfile.Profile() if profile else None
    load_before = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    done = CliRunner().invoke(app, full)
    if prof:
        prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if done.exit_code != 0:
        sys.exit(done.output)
    executor = "this process" if name == "here" else f"{workers} {'processes' if name == 'local' else 'Ray CPUs'}"
    print(f"{executor}: {wall:.1f} s", file=sys.stderr)
    return {
        "executor": executor,
        "command": full,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "study": json.loads(done.stdout),
        "profile": profile_table(prof) if prof else "",
    }


if __name__ == "__main__":
    main()
