"""docs/economics.md "Cost model" runs: its override example parses and applies, and the
figures it reports are the ones the model computes."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from neocloud.adapters.assumptions import shipped_assumptions
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.economics.assumptions import parse_assumptions
from neocloud.economics.cost import CostInputs, fleet_tco, tco

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _section() -> str:
    text = (DOCS / "economics.md").read_text()
    start = text.index("## Cost model")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_override_example_parses_and_the_most_specific_value_wins() -> None:
    example = re.search(r"```toml\n(.*?)```", _section(), re.S)
    assert example
    over = shipped_assumptions().overridden_by(parse_assumptions(example.group(1), origin="doc", partial=True))
    here = CostInputs.resolve(over, "H100", "colossus-1")
    assert here.value("capex_per_gpu_usd") == 42000
    assert here.value("electricity_usd_per_kwh") == Decimal("0.0643")
    assert CostInputs.resolve(over, "H100").value("capex_per_gpu_usd") == 50000
    assert here.value("cost_of_debt") == Decimal("0.11")


def test_the_computed_vs_published_table_is_what_the_model_computes() -> None:
    rows = re.findall(r"^\| (H100|H200|B200|GB200) \| ([0-9.]+) \| ([0-9.]+) \|", _section(), re.M)
    assert [r[0] for r in rows] == ["H100", "H200", "B200", "GB200"]
    for model, computed, midpoint in rows:
        assert tco(CostInputs.resolve(shipped_assumptions(), model)).per_gpu_hour.amount == Decimal(computed)
        gap = re.search(rf"^\| {model} \|.*\| ([+-][0-9]+)% \|", _section(), re.M)
        assert gap
        assert round((Decimal(computed) / Decimal(midpoint) - 1) * 100) == int(gap.group(1))


def test_the_colossus_1_worked_example_has_the_documented_figures() -> None:
    result = fleet_tco(build_fleet(preset("colossus-1")), shipped_assumptions())
    (site,) = result.site_totals()
    text = _section()
    assert f"{result.per_gpu_hour.amount:.2f} USD per GPU-hour" in text
    assert f"{result.annual_cost.amount / 10**9:.2f}B USD a year" in text
    assert site.per_mw_year_of_budget is not None
    assert f"{site.per_mw_year_of_budget.amount / 10**6:.2f}M USD per MW-year" in text
