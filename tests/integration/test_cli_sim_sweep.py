"""``neocloud sim sweep``: a small grid on local processes and through a local Ray
instance (the same rows), its table, report and JSON; bad options exit 2 and write nothing."""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli import sweep_executors
from neocloud.cli.main import app
from neocloud.sim.sweep import COLUMNS, Grid, Point, Row

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIRESIAS = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n"
#: the small sweep every test here runs: 2 policies x 2 lease fractions x 2 loads x 2 seeds
GRID = ("--policies", "fifo,las", "--seeds", "0-1", "--loads", "1,2", "--lease-fractions", "0,0.5", "--failures")


def sweep(*args: str | Path, columns: int = 80) -> Result:
    return CliRunner().invoke(
        app, ["sim", "sweep", *map(str, args)], env={"FORCE_COLOR": None, "COLUMNS": str(columns)}
    )


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 8-GPU jobs an hour apart, each ~23 days long, on a 128-GPU cluster: about 3.5
    node failures per run at 1 per 50,700 GPU-hours, so the two seeds differ."""
    path = tmp_path_factory.mktemp("sweep") / "toy.csv"
    lines = [f"{k},8,{3600 * k},1,a,{2_000_000 - 30_000 * k},0" for k in range(40)]
    path.write_text(TIRESIAS + "\n".join(lines) + "\n")
    return path


def base(toy: Path) -> tuple[str, ...]:
    return ("--trace", f"tiresias:{toy}", "--cluster", "gpus:128x8", *GRID)


def without_wall(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "wall_s"} for row in rows]


@pytest.fixture(scope="module")
def local(toy: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sweep on 2 local processes, with its table and report."""
    folder = tmp_path_factory.mktemp("local")
    out, html = folder / "rows.csv", folder / "report.html"
    result = sweep(*base(toy), "--workers", "2", "--out", out, "--report", html, "--json")
    assert result.exit_code == 0, result.output
    return {"doc": json.loads(result.stdout), "out": out, "html": html}


def test_a_sweep_writes_one_row_per_point_in_grid_order(local):
    with local["out"].open(newline="") as source:
        reader = csv.DictReader(source)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        table = list(reader)
    assert len(table) == 16
    assert [int(r["index"]) for r in table] == list(range(16))
    settings = [(r["policy"], float(r["lease_fraction"]), float(r["load"]), int(r["seed"])) for r in table]
    policies, fractions, loads, seeds = ("fifo", "las"), (0.0, 0.5), (1.0, 2.0), (0, 1)
    assert settings == [(p, f, x, s) for p in policies for f in fractions for x in loads for s in seeds]
    rows = local["doc"]["rows"]
    assert without_wall(rows) == without_wall([_typed(r) for r in table])
    assert local["doc"]["executor"] == "2 local processes"


def test_each_point_is_the_sim_run_of_its_settings(local, toy):
    """sim run has no lease fraction or load factor: point 8 (las, fraction 0, load 1,
    seed 0) is the same replay as sim run's las with --failures --seed 0."""
    row = local["doc"]["rows"][8]
    assert (row["policy"], row["lease_fraction"], row["load"], row["seed"]) == ("las", 0.0, 1.0, 0)
    args = ("--trace", f"tiresias:{toy}", "--cluster", "gpus:128x8", "--policy", "las", "--failures")
    result = CliRunner().invoke(app, ["sim", "run", *args, "--seed", "0", "--json", "-"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    for key in ("jobs", "finished", "jct_mean_s", "jct_p99_s", "queue_mean_s", "makespan_s", "preemptions", "cycles"):
        assert row[key] == run[key], key


def test_the_seeds_and_the_settings_change_the_rows(local):
    rows = local["doc"]["rows"]
    assert rows[0]["jct_mean_s"] != rows[1]["jct_mean_s"]  # seed 0 and 1: other failures
    half = [r for r in rows if r["lease_fraction"] == 0.5]
    assert {(r["leased_nodes"], r["leased_gpus"]) for r in half} == {(8, 64)}
    assert all(r["utilization_mean"] <= 0.5 for r in half)
    assert rows[2]["load"] == 2.0
    assert rows[2]["queue_mean_s"] > rows[0]["queue_mean_s"]


def test_the_report_is_one_page_with_the_chart_and_the_table(local):
    page = local["html"].read_text()
    assert page.startswith("<!doctype html>")
    assert "<script" not in page
    assert page.count("<svg") == 1
    assert page.count("<polyline") == 4  # fifo and las, at lease fractions 0 and 0.5
    assert "Mean JCT against the load factor" in page
    assert page.count("<tr>") >= 16 + 8 + 2


@pytest.mark.timeout(240)
def test_a_local_ray_instance_gives_the_same_rows_as_local_processes(local, toy, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'neocloud[ray]')")
    out = tmp_path / "ray.csv"
    started = time.perf_counter()
    result = sweep(*base(toy), "--ray", "local", "--workers", "2", "--out", out, "--json")
    wall = time.perf_counter() - started
    assert not ray.is_initialized()  # shut down after, even in this process
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["executor"] == "a local Ray instance (2 CPUs)"
    assert without_wall(doc["rows"]) == without_wall(local["doc"]["rows"])
    print(f"ray sweep of 16 points: {wall:.1f} s")


def slow_first(point: Point) -> Row:
    """A point runner whose first point finishes last: the others are done while it sleeps."""
    if point.index == 0:
        time.sleep(1.5)
    return sweep_executors.point_row(point)


def test_rows_come_back_in_grid_order_whatever_order_they_finish_in(toy):
    grid = Grid(
        policies=("fifo",),
        seeds=(0, 1, 2, 3),
        loads=(1.0,),
        lease_fractions=(0.0,),
        trace=f"tiresias:{toy}",
        cluster="gpus:128x8",
        failures=True,
    )
    finished: list[int] = []
    rows = sweep_executors.run_local(grid.points(), 2, finished.append, run=slow_first)
    assert [r.index for r in rows] == [0, 1, 2, 3]
    assert [r.seed for r in rows] == [0, 1, 2, 3]
    assert finished == [1, 2, 3, 4]


def test_a_parquet_table_holds_the_same_rows(toy, tmp_path, local):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install 'neocloud[parquet]')")
    out = tmp_path / "rows.parquet"
    result = sweep(*base(toy), "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert tuple(table.column_names) == COLUMNS
    assert without_wall(table.to_pylist()) == without_wall(local["doc"]["rows"])


def test_piped_output_is_the_means_over_the_seeds_within_80_columns(toy, tmp_path):
    result = sweep(*base(toy), "--workers", "1", "--out", tmp_path / "r.csv")
    assert result.exit_code == 0, result.output
    text = _ANSI.sub("", result.stdout)
    assert "16 points on 1 local process" in text
    assert "mean over the seeds" in text
    assert len([line for line in text.splitlines() if line.lstrip().startswith(("fifo", "las"))]) == 8
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--policies", "fifo,lottery"), "--policies 'fifo,lottery': 'lottery' is not one of fifo, backfill"),
        (("--policies", "las,las"), "--policies 'las,las': a policy is named twice"),
        (("--seeds", "5-2"), "--seeds '5-2': 5 is after 2"),
        (("--loads", "1,0"), "--loads '1,0': '0' is not a load factor above 0"),
        (("--loads", "-1"), "--loads '-1': '-1' is not a load factor above 0"),
        (("--loads", "x"), "--loads 'x': 'x' is not a load factor above 0"),
        (("--lease-fractions", "0,1"), "--lease-fractions '0,1': '1' is not a fraction from 0 to below 1"),
        (("--lease-fractions", "-0.1"), "--lease-fractions '-0.1': '-0.1' is not a fraction from 0 to below 1"),
        (("--placement", "random"), "--placement 'random': one of count, firstfit, bestfit, consolidated"),
        (("--window", "9:2"), "--window '9:2': FIRST is after LAST"),
        (("--window", "50:60"), "--window 50:60: the trace has no job in it (40 jobs)"),
        (("--ray", "nowhere"), "--ray 'nowhere': expected local, auto, ray://HOST:PORT or HOST:PORT"),
        (("--report", "no/such/folder/r.html"), "--report no/such/folder/r.html: the folder no/such/folder does not"),
    ],
)
def test_bad_options_exit_2_naming_the_option_and_write_nothing(toy, tmp_path, args, message):
    out = tmp_path / "rows.csv"
    result = sweep("--trace", f"tiresias:{toy}", "--cluster", "gpus:128x8", *args, "--out", out, columns=200)
    assert result.exit_code == 2, result.output
    assert message in _ANSI.sub("", result.output)
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_out_exits_2_before_anything_runs(toy, tmp_path):
    for out, message in (
        (tmp_path / "no" / "rows.csv", f"--out {tmp_path}/no/rows.csv: the folder {tmp_path}/no does not exist"),
        (tmp_path, f"--out {tmp_path}: is a folder"),
    ):
        result = sweep("--trace", f"tiresias:{toy}", "--cluster", "gpus:128x8", "--out", out, columns=300)
        assert result.exit_code == 2, result.output
        assert message in _ANSI.sub("", result.output)
    assert list(tmp_path.iterdir()) == []


def test_ray_asked_for_without_ray_installed_exits_2_before_reading_anything(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails as if it were absent
    # the trace is missing too: --ray is checked first, before any file is read
    missing = ("--trace", f"tiresias:{tmp_path / 'none.csv'}", "--cluster", "gpus:128x8")
    result = sweep(*missing, "--ray", "auto", "--out", tmp_path / "r.csv", columns=300)
    assert result.exit_code == 2, result.output
    assert "--ray auto: ray is not installed here" in result.output
    assert "pip install 'neocloud[ray]'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_parquet_asked_for_without_pyarrow_exits_2_naming_out(toy, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "rows.parquet"
    result = sweep(*base(toy), "--out", out, columns=300)
    assert result.exit_code == 2, result.output
    assert f"--out {out}: Parquet needs pyarrow" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_trace_out_of_arrival_order_exits_2_naming_the_jobs(tmp_path):
    trace = tmp_path / "late.csv"
    trace.write_text(TIRESIAS + "0,1,10,1,a,5,0\n1,1,3,1,a,5,0\n")
    out = tmp_path / "rows.csv"
    result = sweep("--trace", f"tiresias:{trace}", "--cluster", "gpus:8", "--out", out, columns=300)
    assert result.exit_code == 2, result.output
    assert "job 1 comes after job 0 but arrives 7 s before it" in result.output
    assert not out.exists()


def test_a_bad_trace_row_exits_2_naming_file_row_and_column(tmp_path):
    trace = tmp_path / "bad.csv"
    trace.write_text(TIRESIAS + "0,1,0,1,a,5,0\n1,x,3,1,a,5,0\n")
    out = tmp_path / "rows.csv"
    result = sweep("--trace", f"tiresias:{trace}", "--cluster", "gpus:8", "--out", out, columns=300)
    assert result.exit_code == 2, result.output
    assert "row 3" in result.output
    assert "num_gpu" in result.output
    assert not out.exists()


def _typed(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row with its numbers read back as the JSON has them."""
    text = {"policy", "placement"}
    floats = {c for c in COLUMNS if c.endswith(("_s", "_mean", "load", "fraction"))}
    return {k: v if k in text else float(v) if k in floats else int(v) for k, v in row.items()}
