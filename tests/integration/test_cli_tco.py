"""``neocloud plan tco`` end to end: the sources of a fleet, JSON, the table, the chart, bad input."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plan_tco(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(
        app, ["plan", "tco", *map(str, args)], env={"FORCE_COLOR": None, "NEOCLOUD_ASSUMPTIONS": None, **(env or {})}
    )


def as_json(*args: str | Path) -> dict[str, Any]:
    result = plan_tco(*args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_preset_is_priced_per_site_and_model_with_totals_that_add_up() -> None:
    data = as_json("--preset", "demo")
    assert [(r["site"], r["model"], r["gpus"]) for r in data["rows"]] == [
        ("demo-east", "GB200", 576),
        ("demo-west", "H100", 512),
        ("demo-west", "H200", 512),
    ]
    assert Decimal(data["per_gpu_hour"]) == sum(Decimal(line["per_gpu_hour"]) for line in data["lines"])
    assert Decimal(data["annual_cost"]) == sum(Decimal(r["annual_cost"]) for r in data["rows"])


def test_a_fleet_file_and_the_initialised_ledger_give_the_same_answer(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    runner = CliRunner()
    assert runner.invoke(app, ["fleet", "generate", "demo", "-o", str(fleet)]).exit_code == 0
    db = f"sqlite:///{tmp_path / 'n.db'}"
    assert runner.invoke(app, ["init", "--fleet", str(fleet), "--db", db]).exit_code == 0
    from_file = as_json("--fleet", fleet)
    from_ledger = as_json("--db", db)
    assert from_file == from_ledger == as_json("--preset", "demo")


def test_site_and_model_narrow_the_answer() -> None:
    data = as_json("--preset", "demo", "--site", "demo-west", "--model", "H200")
    assert [(r["site"], r["model"]) for r in data["rows"]] == [("demo-west", "H200")]


def test_an_override_file_changes_what_it_names(tmp_path: Path) -> None:
    override = tmp_path / "ops.toml"
    override.write_text('[site.demo-west.model.H100.capex_per_gpu_usd]\nvalue = 40000\nsource = "q"\ndate = "2026"\n')
    data = as_json("--preset", "demo", "--assumptions", override)
    capex = {(r["site"], r["model"]): r["capex_per_gpu"] for r in data["rows"]}
    assert capex == {
        ("demo-east", "GB200"): "61100.00",
        ("demo-west", "H100"): "40000.00",
        ("demo-west", "H200"): "55000.00",
    }
    assert str(override) in data["assumptions_origin"]


def test_the_table_fits_80_columns_and_shows_the_breakdown() -> None:
    result = plan_tco("--preset", "demo")
    assert result.exit_code == 0, result.output
    text = _ANSI.sub("", result.stdout)
    assert max(len(line) for line in text.splitlines()) <= 80
    for word in ("servers", "financing", "failures, RMA", "fleet", "GB200"):
        assert word in text


def test_html_writes_a_self_contained_chart(tmp_path: Path) -> None:
    page = tmp_path / "tco.html"
    result = plan_tco("--preset", "demo", "--html", page)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "<svg" in html
    assert "<script" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert html.count("<rect") >= 3 * 7  # a segment per line per model (and the legend)


def test_a_bad_override_file_exits_2_naming_file_and_key_and_writes_nothing(tmp_path: Path) -> None:
    override = tmp_path / "ops.toml"
    override.write_text('[global.cost_of_debt]\nvalue = "high"\nsource = "x"\ndate = "y"\n')
    page = tmp_path / "tco.html"
    result = plan_tco("--preset", "demo", "--assumptions", override, "--html", page)
    assert result.exit_code == 2
    assert f"{override}: global.cost_of_debt.value: expected a number" in _ANSI.sub("", result.stderr)
    assert not page.exists()


def test_bad_arguments_exit_2_with_the_reason(tmp_path: Path) -> None:
    cases = [
        (["--preset", "demo", "--fleet", "f.yaml"], "--preset or --fleet, not both"),
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--preset", "demo", "--site", "mars"], "site: no site 'mars' in the fleet"),
        (["--preset", "demo", "--model", "TPU"], "model: no 'TPU' GPUs in the fleet"),
        (["--fleet", tmp_path / "missing.yaml"], "missing.yaml"),
        (["--set", "power_mw=5"], "--set needs --preset"),
    ]
    for args, message in cases:
        result = plan_tco(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in _ANSI.sub("", result.stderr), (args, result.stderr)
