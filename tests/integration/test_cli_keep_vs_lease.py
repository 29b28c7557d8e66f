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
    assert doc["recommended_fraction"] in (0, 0.5, 1)
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
            _b(lease["total_revenue"]),
            _b(lease["npv"]),
            f"{lease['gross_margin']:.0%}" if o["fraction"] else "-",
            _b(lease["revenue_at_risk"]),
        ]
        row = next(line for line in page.splitlines() if line.startswith(f"| {o['fraction']:.0%} |"))
        assert " | ".join(cells) in row, (row, cells)
    half = doc["options"][1]
    assert f"({sum(half['leased_gpus'].values()):,} GPUs)" in page
    assert f"{half['leased_units'][0]} ... {half['leased_units'][-1]}" in page
