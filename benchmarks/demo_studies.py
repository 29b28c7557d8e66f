"""How much does ``serve --demo`` pay at startup for its two studies?

Issue 13 section 5: ``neocloud serve --demo`` records one small keep-vs-lease study
(three fractions of demo-west's blocks, the demo's internal work at 4x its GPUs) and
one small sweep (4 policies x 2 lease fractions x 3 load factors, one seed) so that
the dashboard's studies pages have something to show. This measures, on a fresh
SQLite file as ``serve --demo`` builds it, the whole demo build (a month of history,
last month invoiced) and the two studies' part of it, ``--runs`` times.

    .venv/bin/python benchmarks/demo_studies.py [--runs 3] [--out /tmp/demo_studies.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _sim_bench import machine  # beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/demo_studies.json"))
    args = parser.parse_args()
    runs = [_run() for _ in range(args.runs)]
    print(f"{'run':>4}{'demo build s':>14}{'studies s':>11}{'keep s':>8}{'sweep s':>9}{'load 1m':>9}")
    for k, r in enumerate(runs, 1):
        print(
            f"{k:>4}{r['build_s']:>14.2f}{r['studies_s']:>11.3f}{r['keep_vs_lease_s']:>8.3f}"
            f"{r['sweep_s']:>9.3f}{r['load_1m']:>9.2f}"
        )
    args.out.write_text(json.dumps({"machine": machine(), "runs": runs}, indent=2) + "\n")
    print(f"wrote {args.out}")


def _run() -> dict[str, Any]:
    from neocloud import bootstrap
    from neocloud.domain.clock import ManualClock, SystemClock
    from neocloud.services import demo_studies
    from neocloud.services.demo import build_demo_with_a_closed_month

    parts: dict[str, float] = {}
    keep, sweep = demo_studies._keep_vs_lease, demo_studies._sweep

    def timed(name: str, step: Any) -> Any:
        def run(services: Any) -> None:
            t0 = time.perf_counter()
            step(services)
            parts[name] = time.perf_counter() - t0

        return run

    demo_studies._keep_vs_lease, demo_studies._sweep = timed("keep_vs_lease_s", keep), timed("sweep_s", sweep)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            load = os.getloadavg()[0]
            now = SystemClock().now()
            clock = ManualClock(now)
            services = bootstrap.services(f"sqlite:///{Path(tmp) / 'demo.db'}", clock)
            t0 = time.perf_counter()
            build_demo_with_a_closed_month(services, clock, now)
            build = time.perf_counter() - t0
            assert {s.name for s in services.studies.studies()} == {"demo-keep-vs-lease", "demo-sweep"}
    finally:
        demo_studies._keep_vs_lease, demo_studies._sweep = keep, sweep
    return {
        "build_s": build,
        "studies_s": parts["keep_vs_lease_s"] + parts["sweep_s"],
        **parts,
        "load_1m": load,
    }


if __name__ == "__main__":
    main()
