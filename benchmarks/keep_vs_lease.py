"""What does the keep-vs-lease worked example cost at full colossus scale?

Issue 13 section 6: the seed case (``neocloud plan keep-vs-lease --seed colossus``:
colossus-1 + colossus-2, 780,032 GPUs on 170,008 nodes; the Philly list's 111,549 jobs
scaled to the fleet as the internal work; colossus-1's pods as the candidates; the seed
deal's terms) over five fractions, in this process, one fraction after another. The
table gives each fraction's replay and the whole study's wall and CPU time; the JSON
has the study's figures; ``--profile`` adds where the time goes.

    .venv/bin/python benchmarks/keep_vs_lease.py [--fractions 0,0.25,0.5,0.75,1] [--window A:B]
        [--internal-load 1] [--profile] [--out /tmp/keep_vs_lease.json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import time
from pathlib import Path

from _sim_bench import machine, profile_table  # beside this script

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--window", default=None)
    parser.add_argument("--internal-load", default="1")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/keep_vs_lease.json"))
    args = parser.parse_args()
    from typer.testing import CliRunner

    from neocloud.cli.main import app

    trace = REPO.parent / "shared" / "traces" / "microsoft-philly-2017" / "derived_rfold_philly_trace.csv.gz"
    if not trace.is_file():
        sys.exit(f"no Philly trace at {trace}")
    cmd = ["plan", "keep-vs-lease", "--seed", "colossus", "--internal", f"philly:{trace}"]
    cmd += ["--fractions", args.fractions, "--internal-load", args.internal_load, "--json"]
    if args.window:
        cmd += ["--window", args.window]
    prof = cProfile.Profile() if args.profile else None
    load_before = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    done = CliRunner().invoke(app, cmd)
    if prof:
        prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if done.exit_code != 0:
        sys.exit(done.output)
    study = json.loads(done.stdout)
    print(f"{'leased':>7}{'kept GPUs':>11}{'jobs':>8}{'JCT h':>8}{'wait h':>8}{'delay h':>8}{'NPV B':>8}")
    for o in study["options"]:
        i = o["internal"]
        print(
            f"{o['fraction']:>7.0%}{o['kept_gpus']:>11,}{i['jobs']:>8,}{i['jct_mean_s'] / 3600:>8.2f}"
            f"{i['queue_mean_s'] / 3600:>8.2f}{i['delay_mean_s'] / 3600:>8.2f}{float(o['lease']['npv']) / 1e9:>8.2f}"
        )
    print(f"study: {wall:.1f} s wall, {cpu:.1f} s CPU, load {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"recommendation: {study['recommendation']}")
    result = {
        "machine": machine(),
        "command": cmd,
        "wall_s": wall,
        "cpu_s": cpu,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "study": study,
        "profile": profile_table(prof) if prof else "",
    }
    if prof:
        print(f"\nwhere the time goes (cProfile, own time):\n{result['profile']}")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
