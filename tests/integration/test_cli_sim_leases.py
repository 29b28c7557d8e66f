"""``neocloud sim leases``: the JSON fields, the pin side by side, 80 columns piped, the
HTML report; bad options and bad rows exit 2 naming them and write nothing."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEADER = "arrival_s,tenant,shape,term_days,tier\n"
RUN_FIELDS = (
    "requests",
    "accepted",
    "refused",
    "acceptance",
    "revenue_booked",
    "revenue_refused",
    "utilization_mean",
    "stranded_mean",
    "by_shape",
    "by_tier",
    "refusal_reasons",
    "refused_requests",
    "daily",
)


def sim(*args: str | Path, columns: int = 80) -> Result:
    env = {"FORCE_COLOR": None, "COLUMNS": str(columns)}
    return CliRunner().invoke(app, ["sim", "leases", *map(str, args)], env=env)


def as_json(*args: str | Path) -> dict[str, Any]:
    result = sim(*args, "--json", "-")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def demand_csv(tmp_path: Path) -> Path:
    """The demo's 576-GPU GB200 site leased whole, then requests the rest can and cannot take."""
    path = tmp_path / "demand.csv"
    path.write_text(
        HEADER
        + "0,acme,sitexGB200,365,wholesale\n"  # demo-east: 576 GB200 GPUs
        + "60,beta,72xGB200,30,reserved\n"  # no GB200 left
        + "120,beta,256xH100@block,30,reserved\n"  # one whole H100 block of demo-west
        + "180,gamma,1024,30,on_demand\n"  # 1,024 GPUs: only 768 H100/H200 are free
    )
    return path


def test_a_csv_stream_is_booked_and_refused_through_the_engine(fleet_file, demand_csv):
    data = as_json("--fleet", fleet_file, "--demand", f"csv:{demand_csv}")
    run = data["runs"]["without_pin"]
    assert (run["requests"], run["accepted"], run["refused"]) == (4, 2, 2)
    assert [r["id"] for r in run["refused_requests"]] == ["r3", "r5"]
    assert {g["tier"]: g["accepted"] for g in run["by_tier"]} == {"wholesale": 1, "reserved": 1, "on_demand": 0}
    assert data["days"] == pytest.approx(180 / 86_400)  # a CSV runs to its last arrival without --days


def test_the_json_reports_every_figure_with_and_without_the_pin(fleet_file):
    data = as_json("--fleet", fleet_file, "--demand", "model:rate=2,tenants=5", "--pin", "site:365", "--days", "90")
    assert set(data["runs"]) == {"without_pin", "with_pin"}
    for run in data["runs"].values():
        for key in RUN_FIELDS:
            assert key in run, key
        assert len(run["daily"]["day"]) == 91
    assert data["pin"] == {"shape": "site", "term_days": 365.0, "tier": "wholesale"}
    assert data["runs"]["with_pin"]["pin"]["accepted"] is True
    assert data["runs"]["without_pin"]["pin"] is None
    assert (data["rate_per_day"], data["tenants"], data["seed"]) == (2.0, 5, 0)
    assert data["runs"]["with_pin"]["requests"] == data["runs"]["without_pin"]["requests"]
    pinned = data["runs"]["with_pin"]
    assert Decimal(pinned["revenue_with_pin"]) == Decimal(pinned["revenue_booked"]) + Decimal(pinned["pin"]["revenue"])


def test_piped_output_fits_80_columns_and_the_report_draws_both_runs(fleet_file, tmp_path):
    report = tmp_path / "r.html"
    result = sim("--fleet", fleet_file, "--demand", "model:load=0.8", "--pin", "block:2:365", "--report", report)
    assert result.exit_code == 0, result.output
    text = _ANSI.sub("", result.stdout)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "without pin" in text
    assert "with pin" in text
    assert "revenue booked" in text
    page = report.read_text()
    assert page.count("<svg") == 2
    assert "with pin" in page


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--demand", "trace:x.csv", "--demand 'trace:x.csv': expected csv:PATH or model:KEY=VAL"),
        ("--demand", "model:rat=1", "unknown key 'rat'"),
        ("--demand", "model:rate=1,rate=2", "rate is given twice"),
        ("--pin", "site", "--pin 'site': expected SHAPE:DAYS"),
        ("--pin", "rack:30", "'rack' is neither a GPU count nor a unit"),
        ("--pin", "site:0", "DAYS above 0"),
        ("--days", "0", "--days 0: expected a number of days above 0"),
        ("--json", "missing/out.json", "--json missing/out.json: the folder missing does not exist"),
    ],
)
def test_a_bad_option_exits_2_naming_it_and_writes_nothing(fleet_file, tmp_path, option, value, message):
    report = tmp_path / "r.html"
    args = ["--fleet", fleet_file, "--demand", "model:rate=1", "--report", report, option, value]
    result = sim(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert not report.exists()


def test_a_bad_row_exits_2_naming_the_row_and_column(fleet_file, demand_csv, tmp_path):
    demand_csv.write_text(demand_csv.read_text() + "240,acme,8,1,gold\n")
    out = tmp_path / "o.json"
    result = sim("--fleet", fleet_file, "--demand", f"csv:{demand_csv}", "--json", out)
    assert result.exit_code == 2
    assert "row 6, column 'tier': 'gold' is not a tier" in " ".join(result.stderr.split())
    assert not out.exists()


def test_a_model_the_fleet_lacks_exits_2_naming_the_request(fleet_file, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "0,acme,8xB200,1,spot\n")
    result = sim("--fleet", fleet_file, "--demand", f"csv:{path}")
    assert result.exit_code == 2
    assert "request r2: model: no 'B200' GPUs in the fleet" in " ".join(result.stderr.split())
