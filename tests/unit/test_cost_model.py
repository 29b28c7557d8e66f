"""The cost model: lines, rounding, the fleet total, and the published owner TCO figures."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.adapters.assumptions import shipped_assumptions
from neocloud.domain.catalog import GpuModel, builtin_catalog
from neocloud.domain.fleet import Fleet, Node, Site
from neocloud.economics.assumptions import Sourced, parse_assumptions
from neocloud.economics.cost import (
    LINE_LABELS,
    CostInputs,
    InconsistentAssumption,
    capital_recovery_factor,
    fleet_tco,
    tco,
)
from neocloud.economics.months import HOURS_PER_YEAR

DEFAULTS = shipped_assumptions()


def _inputs(model: str = "H100", **values: str) -> CostInputs:
    base = CostInputs.resolve(DEFAULTS, model)
    extra = {k: Sourced(Decimal(v), "test", "now") for k, v in values.items()}
    return replace(base, values={**base.values, **extra})


def _fleet(groups: list[tuple[str, str, int]], sites: list[Site]) -> Fleet:
    nodes = [
        Node(f"n{i}", f"s{i}", model, gpus, site, "p", "b", None, f"d{i}")
        for i, (site, model, gpus) in enumerate(groups)
    ]
    return Fleet(builtin_catalog(), "t", sites=sites, nodes=nodes)


money = st.decimals(min_value=Decimal("1000"), max_value=Decimal("200000"), places=2)
fraction = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.3"), places=4)


@settings(max_examples=60, deadline=None)
@given(
    capex=money,
    debt=fraction,
    equity=fraction,
    life=st.integers(1, 8),
    pue=st.decimals(min_value=Decimal("1"), max_value=Decimal("2"), places=3),
    price=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.5"), places=4),
    kw=st.decimals(min_value=Decimal("0.3"), max_value=Decimal("3"), places=3),
)
def test_a_tco_is_the_sum_of_its_lines_each_rounded_once(capex, debt, equity, life, pue, price, kw):
    result = tco(
        _inputs(
            capex_per_gpu_usd=str(capex),
            facility_in_capex_per_gpu_usd=str((capex * debt).quantize(Decimal("0.01"))),
            cost_of_debt=str(debt),
            cost_of_equity=str(equity),
            economic_life_years=str(life),
            pue=str(pue),
            electricity_usd_per_kwh=str(price),
            it_kw_per_gpu=str(kw),
        )
    )
    assert [line.key for line in result.lines] == list(LINE_LABELS)
    assert result.per_gpu_hour.amount == sum(line.per_gpu_hour.amount for line in result.lines)
    assert result.per_mw_year.amount == sum(line.per_mw_year.amount for line in result.lines)
    for line in result.lines:
        assert line.per_gpu_hour.amount.as_tuple().exponent == -4, "USD rates carry 4 places"
        assert line.per_mw_year.amount.as_tuple().exponent == -2, "per MW-year in cents"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["east", "west"]), st.sampled_from(["H100", "H200", "B200", "GB200"]), st.integers(1, 5000)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_a_fleets_total_is_the_sum_of_its_lines_and_its_annual_cost_the_sum_of_its_rows(groups):
    sites = [Site("east", "r", None, 1.2, 0.07), Site("west", "r", None, 1.4, 0.09)]
    total = fleet_tco(_fleet(groups, sites), DEFAULTS)
    assert total.per_gpu_hour.amount == sum(line.per_gpu_hour.amount for line in total.lines)
    assert total.annual_cost.amount == sum(row.annual_cost.amount for row in total.rows)
    assert total.gpus == sum(g for _, _, g in groups)
    for row in total.rows:
        assert row.annual_cost.amount == (row.tco.per_gpu_hour.amount * row.gpus * HOURS_PER_YEAR).quantize(
            Decimal("0.01")
        )


def test_a_sites_cost_per_mw_year_of_its_budget_is_its_annual_cost_over_the_budget():
    sites = [Site("east", "r", 2.0, 1.2, 0.07), Site("west", "r", None, 1.4, 0.09)]
    total = fleet_tco(_fleet([("east", "H100", 800), ("east", "GB200", 72), ("west", "H100", 8)], sites), DEFAULTS)
    east, west = total.site_totals()
    assert east.annual_cost.amount + west.annual_cost.amount == total.annual_cost.amount
    assert east.per_mw_year_of_budget is not None
    assert east.per_mw_year_of_budget.amount == (east.annual_cost.amount / 2).quantize(Decimal("0.01"))
    assert east.it_mw == (800 * Decimal("1.275") + 72 * Decimal("1.667")) / 1000
    assert (west.power_mw, west.per_mw_year_of_budget) == (None, None)
    assert east.capex.amount + west.capex.amount == total.capex_with_facility().amount
    assert east.capex.amount == 800 * (43750 + Decimal("13642.50")) + 72 * (61100 + Decimal("17836.90"))


def test_a_fleets_line_is_the_gpu_weighted_mean_of_its_rows():
    sites = [Site("east", "r", None, 1.2, 0.07)]
    total = fleet_tco(_fleet([("east", "H100", 24), ("east", "B200", 8)], sites), DEFAULTS)
    h100, b200 = (r.tco for r in total.rows)
    for i, line in enumerate(total.lines):
        mean = (24 * h100.lines[i].per_gpu_hour.amount + 8 * b200.lines[i].per_gpu_hour.amount) / 32
        assert line.per_gpu_hour.amount == mean.quantize(Decimal("0.0001"))


def test_a_fleet_of_one_model_costs_what_that_model_costs():
    sites = [Site("east", "r", None, 1.25, 0.065)]
    total = fleet_tco(_fleet([("east", "B200", 64), ("east", "B200", 8)], sites), DEFAULTS)
    (row,) = total.rows
    assert row.gpus == 72
    assert total.per_gpu_hour == row.tco.per_gpu_hour


def test_the_financing_line_makes_the_capex_lines_add_up_to_the_capital_recovery_annuity():
    inputs = _inputs()
    result = tco(inputs)
    capex, facility = inputs.hardware_capex_per_gpu, result.facility_capex_per_gpu.amount
    annuity = capex * capital_recovery_factor(inputs.wacc, inputs.value("economic_life_years")) + facility * (
        capital_recovery_factor(inputs.wacc, inputs.value("facility_life_years"))
    )
    capital = sum(
        result.line(k).per_gpu_hour.amount for k in ("hardware_servers", "hardware_fabric", "facility", "financing")
    )
    assert abs(capital - annuity / HOURS_PER_YEAR) <= Decimal("0.0002"), "four lines, each within half a unit"
    assert result.line("financing").per_gpu_hour.amount > 0


def test_at_a_zero_cost_of_capital_there_is_no_financing_line():
    result = tco(_inputs(cost_of_debt="0", cost_of_equity="0"))
    assert result.wacc == 0
    assert result.line("financing").per_gpu_hour.amount == 0
    assert result.line("hardware_servers").per_gpu_hour.amount == (
        Decimal(43750) * Decimal("0.9") / 4 / HOURS_PER_YEAR
    ).quantize(Decimal("0.0001"))


def test_the_wacc_weighs_debt_and_equity_by_the_debt_share():
    inputs = _inputs(cost_of_debt="0.06", cost_of_equity="0.16", debt_share="0.75")
    assert inputs.wacc == Decimal("0.085")


def test_power_applies_the_pue_once_to_the_it_load_not_to_the_all_in_figure():
    inputs = _inputs(pue="1.5", electricity_usd_per_kwh="0.1", average_draw_fraction="1")
    expected = Decimal("1.275") * Decimal("1.5") * Decimal("0.1")
    assert tco(inputs).line("power").per_gpu_hour.amount == expected.quantize(Decimal("0.0001"))
    assert tco(inputs).facility_kw_per_gpu == Decimal("1.275") * Decimal("1.5")


def test_a_model_with_only_an_all_in_figure_pays_for_exactly_that_power():
    base = _inputs(pue="1.5", electricity_usd_per_kwh="0.1", average_draw_fraction="1")
    values = {k: v for k, v in base.values.items() if k != "it_kw_per_gpu"}
    inputs = replace(base, values=values)
    assert inputs.it_kw_per_gpu == Decimal("1.73") / Decimal("1.5")
    assert tco(inputs).line("power").per_gpu_hour.amount == Decimal("0.1730")


def test_per_mw_year_is_the_yearly_cost_over_the_it_load():
    result = tco(_inputs())
    it_mw = result.it_kw_per_gpu / 1000
    for line in result.lines:
        assert abs(line.per_mw_year.amount * it_mw / HOURS_PER_YEAR - line.per_gpu_hour.amount) < Decimal("0.0001")


def test_book_depreciation_is_hardware_capex_over_the_book_life_beside_the_cost():
    result = tco(_inputs())
    assert result.book_depreciation_per_gpu_year.amount == Decimal("7291.67")
    assert result.capex_total(1000).amount == Decimal(43_750_000)


def test_the_fleet_files_site_price_and_pue_reach_the_power_line():
    sites = [Site("cheap", "r", None, 1.1, 0.05), Site("dear", "r", None, 1.5, 0.20)]
    total = fleet_tco(_fleet([("cheap", "H100", 8), ("dear", "H100", 8)], sites), DEFAULTS)
    power = {row.site: row.tco.line("power").per_gpu_hour.amount for row in total.rows}
    draw = Decimal("1.275") * Decimal("0.735")
    assert power["cheap"] == (draw * Decimal("1.1") * Decimal("0.05")).quantize(Decimal("0.0001"))
    assert power["dear"] == (draw * Decimal("1.5") * Decimal("0.20")).quantize(Decimal("0.0001"))


def test_a_fleet_model_with_a_capex_override_takes_its_power_from_the_fleets_catalog():
    a100 = GpuModel("A100", 80.0, 400.0, gpus_per_node=8, node_power_kw=6.5, nvlink_domain_gpus=8)
    over = DEFAULTS.overridden_by(
        parse_assumptions(
            '[model.A100.capex_per_gpu_usd]\nvalue = 20000\nsource = "q"\ndate = "d"\n', origin="o", partial=True
        )
    )
    fleet = _fleet([("east", "A100", 8)], [Site("east", "r", None, 1.2, 0.07)])
    fleet.catalog = builtin_catalog().with_models([a100])
    (row,) = fleet_tco(fleet, over).rows
    assert row.tco.it_kw_per_gpu == Decimal("0.8125")
    assert row.tco.inputs.values["it_kw_per_gpu"].source == "fleet:catalog"


def test_a_model_without_a_capex_assumption_is_listed_unpriced_with_the_reason():
    sites = [Site("east", "r", None, 1.2, 0.07)]
    total = fleet_tco(_fleet([("east", "H100", 8), ("east", "A100", 8)], sites), DEFAULTS)
    assert [r.model for r in total.rows] == ["H100"]
    (missing,) = total.unpriced
    assert (missing.model, missing.gpus) == ("A100", 8)
    assert "capex_per_gpu_usd" in missing.reason
    assert total.gpus == 8


def test_h100s_r7_capex_holds_its_own_facility_line_so_the_facility_is_counted_once():
    """[R7]'s 50k per H100 sums its spreadsheet's "Facility & Ops" line (6,250 per GPU); the
    model's facility line is the facility, so the hardware lines get 50,000 - 6,250."""
    result = tco(CostInputs.resolve(DEFAULTS, "H100"))
    r7_all_in, r7_facility = Decimal(50000), Decimal(6250)
    ours = Decimal(10_700_000) * Decimal("1.275") / 1000
    assert result.facility_capex_per_gpu.amount == ours
    assert result.capex_per_gpu.amount == r7_all_in - r7_facility
    row = fleet_tco(_fleet([("east", "H100", 8)], [Site("east", "r", None, 1.25, 0.065)]), DEFAULTS).rows[0]
    assert row.capex_with_facility.amount == 8 * (r7_all_in - r7_facility + ours), "one facility per GPU, not two"
    hardware = result.line("hardware_servers").per_gpu_hour.amount + result.line("hardware_fabric").per_gpu_hour.amount
    assert abs(hardware - (r7_all_in - r7_facility) / 4 / HOURS_PER_YEAR) <= Decimal("0.0001")


def test_h200s_capex_scaled_from_h100s_carries_h100s_facility_share_out_with_it():
    h100, h200 = (CostInputs.resolve(DEFAULTS, m) for m in ("H100", "H200"))
    share = h100.value("facility_in_capex_per_gpu_usd") / h100.value("capex_per_gpu_usd")
    assert h200.value("facility_in_capex_per_gpu_usd") == h200.value("capex_per_gpu_usd") * share
    assert tco(h200).capex_per_gpu.amount == Decimal(48125)


def test_every_shipped_model_says_how_much_facility_its_capex_holds():
    for name, layer in DEFAULTS.models.items():
        if "capex_per_gpu_usd" in layer:
            assert "facility_in_capex_per_gpu_usd" in layer, f"{name}: say whether its capex holds a facility"
    facility = {m: DEFAULTS.models[m]["facility_in_capex_per_gpu_usd"].value for m in ("B200", "GB200", "GB300")}
    assert facility == {"B200": 0, "GB200": 0, "GB300": 0}, "list, rack and equipment prices hold no facility"


def test_an_override_capex_without_a_facility_part_is_server_and_fabric_only():
    over = DEFAULTS.overridden_by(
        parse_assumptions(
            '[model.H100.capex_per_gpu_usd]\nvalue = 30000\nsource = "po 1"\ndate = "d"\n'
            '[site.east.model.H200.capex_per_gpu_usd]\nvalue = 42000\nsource = "po 2"\ndate = "d"\n'
            '[model.B200.capex_per_gpu_usd]\nvalue = 80000\nsource = "all-in quote"\ndate = "d"\n'
            '[model.B200.facility_in_capex_per_gpu_usd]\nvalue = 9000\nsource = "all-in quote"\ndate = "d"\n',
            origin="o",
            partial=True,
        )
    )
    assert CostInputs.resolve(over, "H100").hardware_capex_per_gpu == 30000
    assert CostInputs.resolve(over, "H200", "east").hardware_capex_per_gpu == 42000
    assert CostInputs.resolve(over, "H200").hardware_capex_per_gpu == 48125, "elsewhere the shipped split holds"
    assert CostInputs.resolve(over, "B200").hardware_capex_per_gpu == 71000


def test_a_facility_part_larger_than_the_capex_is_refused_and_the_model_left_unpriced():
    over = DEFAULTS.overridden_by(
        parse_assumptions(
            '[model.H100.facility_in_capex_per_gpu_usd]\nvalue = 60000\nsource = "typo"\ndate = "d"\n',
            origin="o",
            partial=True,
        )
    )
    with pytest.raises(InconsistentAssumption, match="facility_in_capex_per_gpu_usd"):
        CostInputs.resolve(over, "H100")
    total = fleet_tco(_fleet([("east", "H100", 8)], [Site("east", "r", None, 1.2, 0.07)]), over)
    assert [u.model for u in total.unpriced] == ["H100"]


# The test: computed from components (the shipped assumptions never hold a TCO),
# the owner TCO per GPU-hour against the section 6 midpoints of [R1]. Where the sourced
# inputs do not land within 10%, the gap is reported, not tuned away (docs/economics.md,
# "Cost model"): strict xfail, so a change that closes a gap fails here until the docs say so.
PUBLISHED_MIDPOINTS = {"H100": "1.50", "H200": "1.60", "B200": "2.15", "GB200": "2.50"}
GAPS = {
    "H100": "+49%: 2.24 USD; straight-line hardware, facility and power alone are 1.48 (financing 56% of the gap)",
    "H200": "+51%: 2.41 USD; straight-line hardware, facility and power alone are 1.60 (financing 54% of the gap)",
    "B200": "+62%: 3.48 USD; 70k capex [R15] alone is 2.00 straight-line (financing 48% of the gap)",
    "GB200": "+23%: 3.08 USD; financing 0.56 is 97% of the gap, failures 42%, other opex 39%",
}


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=GAPS[m])) if m in GAPS else m
        for m in PUBLISHED_MIDPOINTS
    ],
)
def test_owner_tco_per_gpu_hour_lands_within_ten_percent_of_the_published_midpoint(model):
    computed = tco(CostInputs.resolve(DEFAULTS, model)).per_gpu_hour.amount
    published = Decimal(PUBLISHED_MIDPOINTS[model])
    assert abs(computed / published - 1) <= Decimal("0.10"), f"{model}: {computed} vs {published}"


@pytest.mark.parametrize("model", list(PUBLISHED_MIDPOINTS))
def test_facility_and_power_are_under_a_fifth_of_the_tco_as_r2_says(model):
    """[R2]: colocation plus electricity are "typically less than 20% of TCO". The facility's
    capital (its annuity at the WACC) and the power bill stand in for colocation + electricity."""
    result = tco(CostInputs.resolve(DEFAULTS, model))
    inputs = result.inputs
    facility = result.facility_capex_per_gpu.amount * capital_recovery_factor(
        inputs.wacc, inputs.value("facility_life_years")
    )
    share = (facility / HOURS_PER_YEAR + result.line("power").per_gpu_hour.amount) / result.per_gpu_hour.amount
    assert Decimal("0.05") < share < Decimal("0.20"), share
