"""``neocloud plan keep-vs-lease``: the worked example at reduced scale (a window of the internal
trace on the full two-campus fleet), its figures against ``plan deal --seed colossus-1``'s, the
page, and bad options exiting 2 with nothing written."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app
from tests.conftest import TRACES

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["plan", *map(str, args)], env={"COLUMNS": "80"})


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    if not TRACES.is_dir():
        pytest.skip(f"real traces not found at {TRACES} (../shared/traces beside the repo)")
    page = tmp_path_factory.mktemp("kvl") / "study.html"
    internal = f"philly:{TRACES / PHILLY}"
    args = ("keep-vs-lease", "--seed", "colossus", "--internal", internal, "--window", "40000:40999")
    done = run(*args, "--json", "--report", page)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout), page.read_text()


def test_the_seed_leases_nothing_half_or_all_of_colossus_1_in_whole_pods(seeded):
    doc, _ = seeded
    fractions = [o["fraction"] for o in doc["options"]]
    assert fractions == [0, 0.5, 1]
    none, half, whole = doc["options"]
    assert none["leased_gpus"] == {}
    assert sum(whole["leased_gpus"].values()) == 230_024  # all of colossus-1
    assert whole["kept_gpus"] == 550_008  # colossus-2 stays
    assert 0.45 < sum(half["leased_gpus"].values()) / 230_024 < 0.55
    assert all(u.startswith("c1-pod") for u in whole["leased_units"])
    assert doc["price_per_gpu_hour"] == "7.4390"  # 1.25B / (230,024 GPUs x 730.5 h)


def test_leasing_all_of_colossus_1_is_the_seed_deal_plan_deal_analyses(seeded):
    doc, _ = seeded
    deal = run("deal", "--seed", "colossus-1", "--book", "none", "--json")
    assert deal.exit_code == 0, deal.output
    analysis = json.loads(deal.stdout)
    whole = doc["options"][-1]["lease"]
    for ours, theirs in (("total_revenue", "total_revenue"), ("npv", "npv"), ("revenue_at_risk", "revenue_at_risk")):
        assert whole[ours] == analysis[theirs], ours
    half = doc["options"][1]["lease"]
    assert 0.45 < float(half["total_revenue"]) / float(whole["total_revenue"]) < 0.55  # pro rata


def test_the_internal_work_runs_on_what_stays_and_the_page_draws_the_frontier(seeded):
    doc, page = seeded
    for o in doc["options"]:
        assert o["internal"]["jobs"] == 1000
        assert o["internal"]["unfinished"] == 0
    assert doc["recommended_fraction"] == 1  # a thousand jobs never notice the lease: all of it, the highest NPV
    assert "mean delay within 4 h" in doc["recommendation"]
    assert page.startswith("<!doctype html>")
    assert page.count("<circle") == 3
    assert "<script" not in page
    assert html.escape(doc["recommendation"]) in page


def test_the_summary_fits_80_columns(traces):
    internal = f"philly:{traces / PHILLY}"
    done = run(
        "keep-vs-lease",
        "--fleet",
        "preset:demo",
        "--internal",
        internal,
        "--window",
        "40000:40199",
        "--candidates",
        "pods:demo-west",
        "--fractions",
        "0,1",
        "--tenant",
        "newco",
        "--price-per-gpu-hour",
        "2.35",
        "--start",
        "2027-01-01",
        "--end",
        "2030-01-01",
    )
    assert done.exit_code == 0, done.output
    text = _ANSI.sub("", done.stdout)
    assert "recommendation" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fractions", "0,2"), "--fractions '0,2': expected distinct shares from 0 to 1"),
        (("--candidates", "racks"), "--candidates 'racks': one of sites, pods, blocks"),
        (("--candidates", "pods:atlantis"), "--candidates candidates: unknown site 'atlantis'"),
        (("--internal-load", "0"), "--internal-load 0.0: expected a number above 0"),
        (
            ("--price-per-gpu-hour", "2", "--monthly-fee", "1B"),
            "--price-per-gpu-hour, --monthly-fee, --tier or --demand: give exactly one",
        ),
        (("--report", "no/such/dir/x.html"), "--report no/such/dir/x.html: the folder no/such/dir does not exist"),
        (("--seed", "nope"), "--seed 'nope': unknown; available: colossus"),
        (("--ray", "nowhere"), "--ray 'nowhere': expected local, auto, ray://HOST:PORT or HOST:PORT"),
        (("--max-delay-hours", "0"), "--max-delay-hours 0.0: expected a number of hours above 0"),
    ],
)
def test_bad_options_exit_2_naming_the_option(traces, tmp_path, args, message):
    internal = f"philly:{traces / PHILLY}"
    done = run("keep-vs-lease", "--seed", "colossus", "--internal", internal, "--window", "0:9", *args)
    assert done.exit_code == 2, done.output
    assert message in " ".join(_ANSI.sub("", done.output).split())
    assert list(tmp_path.iterdir()) == []


def _b(text: str) -> str:
    return f"${float(text) / 1e9:.2f}B" if float(text) else "0"


def test_the_worked_examples_table_is_what_the_command_computes(seeded):
    doc, _ = seeded
    page = (Path(__file__).resolve().parents[2] / "docs" / "keep-vs-lease.md").read_text()
    for o in doc["options"]:
        i, lease = o["internal"], o["lease"]
        cells = [
            f"{o['kept_gpus']:,}",
            f"{i['jct_mean_s'] / 3600:.2f} h",
            f"{i['queue_mean_s'] / 3600:.2f} h",
            f"{i['delay_mean_s'] / 3600:.2f} h",
            _b(lease["total_revenue"]),
            _b(lease["npv"]),
            f"{lease['gross_margin']:.0%}" if o["fraction"] else "-",
            _b(lease["revenue_at_risk"]),
        ]
        row = next(line for line in page.splitlines() if line.startswith(f"| {o['fraction']:.0%} |"))
        assert " | ".join(cells) in row, (row, cells)
    half = doc["options"][1]
    assert f"({sum(half['leased_gpus'].values()):,} GPUs)" in page
    assert f"The recommendation: {doc['recommendation']}." in " ".join(page.split())
    assert f"{half['leased_units'][0]} ... {half['leased_units'][-1]}" in page


TIRESIAS = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n"


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 jobs of 8 to 64 GPUs ten minutes apart, 3 to 10 hours each: what the demo
    fleet's 1,600 GPUs hold at once, and the 576 left when demo-west is leased do not."""
    path = tmp_path_factory.mktemp("kvl-toy") / "toy.csv"
    lines = [f"{k},{8 * (1 + k % 8)},{600 * k},1,a,{10_800 + 1_800 * (k % 15)},0" for k in range(60)]
    path.write_text(TIRESIAS + "\n".join(lines) + "\n")
    return path


def _toy_study(toy: Path, *more: str) -> dict[str, Any]:
    args = ("keep-vs-lease", "--fleet", "preset:demo", "--internal", f"tiresias:{toy}", "--internal-scale", "1")
    args += ("--candidates", "pods:demo-west", "--fractions", "0,0.5,1", "--tenant", "newco")
    args += ("--price-per-gpu-hour", "2.35", "--start", "2027-01-01", "--end", "2030-01-01", "--json")
    done = run(*args, *more)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def toy_here(toy: Path) -> dict[str, Any]:
    return _toy_study(toy, "--workers", "1")


def test_the_fractions_replayed_on_two_local_processes_are_the_ones_replayed_here(toy, toy_here):
    delays = [o["internal"]["delay_mean_s"] for o in toy_here["options"]]
    assert delays[0] < delays[-1]  # the fractions differ: leasing demo-west delays the work
    assert _toy_study(toy, "--workers", "2") == toy_here


def test_a_local_ray_instance_replays_the_same_fractions(toy, toy_here):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'neocloud[ray]')")
    assert _toy_study(toy, "--ray", "local", "--workers", "2") == toy_here
    assert not ray.is_initialized()


@pytest.mark.parametrize("where", [("--workers", "2"), ("--ray", "local")], ids=["processes", "ray"])
def test_a_bad_trace_row_exits_2_naming_it_however_the_fractions_run(toy, tmp_path, where):
    if where[0] == "--ray":
        pytest.importorskip("ray", reason="ray is not installed (pip install 'neocloud[ray]')")
    bad = tmp_path / "bad.csv"
    lines = toy.read_text().splitlines()
    lines[30] = "29,eight,17400,1,a,10800,0"  # row 31 (the header is row 1)
    bad.write_text("\n".join(lines) + "\n")
    args = ("keep-vs-lease", "--fleet", "preset:demo", "--internal", f"tiresias:{bad}", "--internal-scale", "1")
    args += ("--candidates", "pods:demo-west", "--fractions", "0,1", "--tenant", "newco")
    args += ("--price-per-gpu-hour", "2.35", "--start", "2027-01-01", "--end", "2030-01-01", *where)
    done = run(*args)
    assert done.exit_code == 2, done.output
    assert "row 31, column 'num_gpu': 'eight' is not a whole number" in " ".join(_ANSI.sub("", done.output).split())


def test_an_internal_trace_out_of_arrival_order_exits_2_before_any_replay(toy, tmp_path):
    unordered = tmp_path / "unordered.csv"
    lines = toy.read_text().splitlines()
    lines[5], lines[6] = lines[6], lines[5]  # job 4 now listed after job 5, which arrives after it
    unordered.write_text("\n".join(lines) + "\n")
    args = ("keep-vs-lease", "--fleet", "preset:demo", "--internal", f"tiresias:{unordered}", "--internal-scale", "1")
    args += ("--candidates", "pods:demo-west", "--fractions", "0,1", "--tenant", "newco", "--workers", "2")
    args += ("--price-per-gpu-hour", "2.35", "--start", "2027-01-01", "--end", "2030-01-01")
    done = run(*args)
    assert done.exit_code == 2, done.output
    assert "--internal tiresias:" in done.output
    assert "comes after job 5" in " ".join(_ANSI.sub("", done.output).split())
