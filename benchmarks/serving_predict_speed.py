"""How long does ``neocloud plan predict`` take for 5,000 rows? (Target: under 2 s.)

Builds a CSV of ``--rows`` rows drawn (seeded, with replacement) from
../shared/reference/serving-silicon/silicon_dev.csv, then runs the command as a user would
(``neocloud plan predict ROWS.csv -o OUT.csv --json``) ``--repeat`` times. Reports the
command's own time (read the file, cost and predict every row, write the output: the
``seconds`` of its JSON summary) and the whole process's wall time (including Python's
start and the imports every ``neocloud`` command pays).

    .venv/bin/python benchmarks/serving_predict_speed.py [--rows 5000] [--repeat 3]
        [--out /tmp/serving_predict_speed.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "reference" / "serving-silicon" / "silicon_dev.csv"
NEOCLOUD = Path(sys.executable).parent / "neocloud"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/serving_predict_speed.json"))
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"no serving-silicon data at {DATA} (../shared/reference beside the repo)")
    with tempfile.TemporaryDirectory() as tmp:
        rows_csv = Path(tmp) / "rows.csv"
        _sample(rows_csv, args.rows)
        runs = [_run(rows_csv, Path(tmp) / "out.csv") for _ in range(args.repeat)]
    command = [r["command_s"] for r in runs]
    wall = [r["wall_s"] for r in runs]
    result = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()} ({platform.python_version()})",
        "rows": args.rows,
        "predicted": runs[0]["predicted"],
        "command_s_median": round(statistics.median(command), 3),
        "process_wall_s_median": round(statistics.median(wall), 3),
        "runs": runs,
    }
    print(f"{'rows':>6} {'predicted':>9} {'command s':>10} {'process s':>10}")
    medians = f"{result['command_s_median']:>10} {result['process_wall_s_median']:>10}"
    print(f"{args.rows:>6} {result['predicted']:>9} {medians}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


def _sample(path: Path, count: int) -> None:
    with DATA.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    rng = random.Random(20261201)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rng.choice(rows) for _ in range(count))


def _run(rows_csv: Path, out: Path) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(NEOCLOUD), "plan", "predict", str(rows_csv), "-o", str(out), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    summary = json.loads(done.stdout)
    return {"command_s": summary["seconds"], "wall_s": round(wall, 3), "predicted": summary["predicted"]}


if __name__ == "__main__":
    main()
