"""``plan keep-vs-lease --tier`` and ``--demand``: the new JSON fields, the stream's bookings
against ``sim leases`` on a fleet file of the leased units alone, and bad options exiting 2
with nothing written."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud import bootstrap
from neocloud.cli.main import app
from neocloud.domain.presets import preset

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"
HEALTHY = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
STREAM = (
    "id,arrival_s,tenant,shape,term_days,tier\n"
    "west-h200,0,acme,256xH200@block,365,reserved\n"
    "west-h100,60,beta,256xH100@block,365,reserved\n"
    "rental,120,gamma,8,7,on_demand\n"
    "too-big,240,acme,1024,30,reserved\n"
)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [*map(str, args)], env={"COLUMNS": "80"})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The healthy demo fleet, the same fleet's demo-west alone, and a small stream."""
    folder = tmp_path_factory.mktemp("kvl-selling")
    spec = preset("demo", HEALTHY)
    west = replace(spec, sites=tuple(s for s in spec.sites if s.name == "demo-west"))
    bootstrap.fleet_files().save_spec(spec, folder / "demo.yaml")
    bootstrap.fleet_files().save_spec(west, folder / "west.yaml")
    (folder / "requests.csv").write_text(STREAM)
    return {"demo": folder / "demo.yaml", "west": folder / "west.yaml", "csv": folder / "requests.csv"}


def _study(traces: Path, files: dict[str, Path], *args: str | Path) -> Result:
    return run(
        "plan",
        "keep-vs-lease",
        "--fleet",
        files["demo"],
        "--internal",
        f"philly:{traces / PHILLY}",
        "--window",
        "40000:40049",
        "--candidates",
        "pods:demo-west",
        "--fractions",
        "0,0.5,1",
        *args,
    )


def _json(done: Result) -> dict[str, Any]:
    assert done.exit_code == 0, done.output
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def test_the_tier_json_shows_each_models_card_and_a_deal_per_site_and_model(traces, files):
    one = ("--tenant", "newco", "--start", "2027-01-01", "--end", "2030-01-01")
    doc = _json(_study(traces, files, "--tier", "wholesale", *one, "--json"))
    assert doc["selling"] == {"way": "tier", "prices": "seeded v1", "tier": "wholesale"}
    assert set(doc["prices_per_gpu_hour"]) == {"H100", "H200"}
    whole = doc["options"][-1]["lease"]
    assert [(d["site"], d["gpus"]) for d in whole["deals"]] == [
        ("demo-west", {"H100": 512}),
        ("demo-west", {"H200": 512}),
    ]
    assert all(d["monthly_fee"] and d["ramp"] == ["0.50", "0.75"] for d in whole["deals"])  # the card's ramp
    assert whole["sites"] == ["demo-west"]
    assert "demand" not in whole
    plain = _json(_study(traces, files, "--price-per-gpu-hour", "2", *one, "--json"))
    assert "deals" not in plain["options"][-1]["lease"]  # only where they exist
    assert plain["selling"] == {"way": "price"}


def test_the_demand_json_books_what_sim_leases_books_on_the_leased_units_alone(traces, files):
    doc = _json(_study(traces, files, "--demand", f"csv:{files['csv']}", "--json"))
    none, half, whole = (o["lease"]["demand"] for o in doc["options"])
    assert (none["requests"], none["accepted"]) == (0, 0)
    assert 0 < half["accepted"] <= whole["accepted"]
    assert doc["price_per_gpu_hour"] is None
    alone = _json(run("sim", "leases", "--fleet", files["west"], "--demand", f"csv:{files['csv']}", "--json", "-"))
    theirs = alone["runs"]["without_pin"]
    assert (whole["accepted"], whole["refused"]) == (theirs["accepted"], theirs["refused"])
    assert whole["revenue_booked"] == theirs["revenue_booked"]
    assert [r["id"] for r in whole["refused_requests"]] == [r["id"] for r in theirs["refused_requests"]]
    assert whole["lessees"] == 3  # acme, beta, gamma
    assert 0 < doc["options"][-1]["lease"]["hhi"] < 10_000
    text = _ANSI.sub("", _study(traces, files, "--demand", f"csv:{files['csv']}").stdout)
    assert "100% leased: booked 3 of 4 requests" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tier", "gold"), "--tier 'gold': 'gold' is not a tier; one of wholesale, reserved"),
        (("--tier", "spot"), "--tier 'spot': 'spot' commits nothing"),
        (("--tier", "wholesale", "--price-per-gpu-hour", "2"), "give exactly one"),
        (("--demand", "nope"), "--demand 'nope': expected csv:PATH or model:KEY=VAL"),
        (("--demand", "model:rate=0"), "--demand 'model:rate=0': rate"),
        (("--demand", "model:rate=1", "--tenant", "x"), "--tenant: not with --demand"),
        (("--demand", "model:rate=1", "--demand-days", "0"), "--demand-days 0: expected a number of days"),
    ],
)
def test_bad_tier_and_demand_options_exit_2_naming_the_option_and_write_nothing(traces, files, tmp_path, args, message):
    page = tmp_path / "study.html"
    done = _study(traces, files, *args, "--report", page)
    assert done.exit_code == 2, done.output
    assert message in " ".join(_ANSI.sub("", done.output).split())
    assert list(tmp_path.iterdir()) == []


def test_a_demand_csv_row_that_is_bad_or_names_a_model_no_candidate_has_exits_2(traces, files, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,arrival_s,tenant,shape,term_days,tier\nr1,0,acme,8xGB200,7,on_demand\n")
    done = _study(traces, files, "--demand", f"csv:{bad}")
    assert done.exit_code == 2, done.output
    assert "request r1: model: no 'GB200' GPUs among the candidates" in " ".join(_ANSI.sub("", done.output).split())


def test_the_seed_at_a_tier_takes_the_cards_not_the_seed_deals_fee_or_ramp(traces):
    internal = f"philly:{traces / PHILLY}"
    args = ("plan", "keep-vs-lease", "--seed", "colossus", "--internal", internal, "--window", "40000:40009")
    done = run(*args, "--fractions", "0,1", "--tier", "wholesale")
    assert done.exit_code == 0, done.output
    assert "the seed deal's terms" not in done.stdout  # the seed's note is about its own fee
    doc = _json(run(*args, "--fractions", "0,1", "--tier", "wholesale", "--json"))
    deals = doc["options"][-1]["lease"]["deals"]
    assert sorted(m for d in deals for m in d["gpus"]) == ["GB200", "H100", "H200"]  # three cards at Colossus 1
    assert all(d["ramp"] == ["0.50", "0.75"] for d in deals)  # the card's ramp, not the seed's 0.5, 0.5
