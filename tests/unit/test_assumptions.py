"""The cost model's assumptions: the shipped file, the parser's errors, and which layer wins."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from neocloud.adapters.assumptions import SHIPPED, load_assumptions, shipped_assumptions, shipped_text
from neocloud.domain.fleet import Site
from neocloud.economics.assumptions import GLOBAL_KEYS, AssumptionsError, parse_assumptions
from neocloud.economics.cost import CostInputs


def _override(text: str):
    return shipped_assumptions().overridden_by(parse_assumptions(text, origin="ops.toml", partial=True))


def _problems(text: str, *, partial: bool = True) -> list[str]:
    with pytest.raises(AssumptionsError) as caught:
        parse_assumptions(text, origin="ops.toml", partial=partial)
    return [str(e) for e in caught.value.errors]


def test_the_shipped_file_gives_every_global_value_with_its_source_and_date():
    a = shipped_assumptions()
    assert a.version == "2026-11"
    assert set(a.globals) == set(GLOBAL_KEYS)
    entries = [*a.globals.values(), *(v for layer in a.models.values() for v in layer.values())]
    assert all(e.source and e.date for e in entries)
    derived = [e for e in entries if e.source.split()[0] == "D"]
    assert derived, "the shipped file derives some values"
    assert all(e.note for e in derived), "every derived value shows its derivation"


def test_the_shipped_file_prices_the_four_published_models():
    models = {m.casefold() for m in shipped_assumptions().model_names()}
    assert {"h100", "h200", "b200", "gb200"} <= models


def test_an_unknown_key_is_named_with_the_file_and_its_path():
    problems = _problems('[global.pue_typo]\nvalue = 1.2\nsource = "R9"\ndate = "2024"\n')
    assert problems == ["ops.toml: global.pue_typo: unknown key"]


def test_a_model_key_at_the_global_level_says_where_it_belongs():
    (problem,) = _problems('[global.capex_per_gpu_usd]\nvalue = 1\nsource = "x"\ndate = "y"\n')
    assert "global.capex_per_gpu_usd" in problem
    assert "model.<NAME>" in problem


def test_a_value_of_the_wrong_type_is_named():
    (problem,) = _problems('[model.H100.capex_per_gpu_usd]\nvalue = "lots"\nsource = "q"\ndate = "2026"\n')
    assert problem.startswith("ops.toml: model.H100.capex_per_gpu_usd.value: expected a number")


def test_a_value_out_of_range_is_named_with_its_range_and_unit():
    (problem,) = _problems('[site.s1.pue]\nvalue = 0.9\nsource = "meter"\ndate = "2026"\n')
    assert problem == "ops.toml: site.s1.pue.value: 0.9 is out of range [1, 3] (facility power / IT power)"


def test_a_value_without_a_source_is_refused():
    (problem,) = _problems('[global.pue]\nvalue = 1.2\ndate = "2026"\n')
    assert problem.startswith("ops.toml: global.pue.source: missing")


def test_every_problem_is_reported_at_once():
    text = '[global.pue]\nvalue = 9\nsource = "a"\ndate = "b"\n[global.nope]\nvalue = 1\n'
    assert len(_problems(text)) == 2


def test_a_defaults_file_must_give_every_global_value_but_an_override_need_not():
    text = 'version = "x"\ncurrency = "USD"\n[global.pue]\nvalue = 1.2\nsource = "a"\ndate = "b"\n'
    missing = _problems(text, partial=False)
    assert len(missing) == len(GLOBAL_KEYS) - 1
    assert "ops.toml: global.cost_of_debt: missing" in " ".join(missing)
    assert parse_assumptions(text, origin="ops.toml", partial=True).globals["pue"].value == Decimal("1.2")


def test_text_that_is_not_toml_is_refused_with_the_file_name():
    (problem,) = _problems("[global.pue\n")
    assert problem.startswith("ops.toml: not valid TOML")


def test_an_override_that_names_a_version_keeps_the_shipped_one_beside_it():
    assert _override('version = "ops-3"\n').version == "2026-11+ops-3"
    assert _override("").version == "2026-11"


def test_an_unknown_top_level_key_or_a_value_that_is_no_table_is_named():
    assert _problems('colour = "red"\n') == [
        "ops.toml: colour: unknown key; expected one of currency, global, model, site, version"
    ]
    assert _problems("[global]\npue = 1.2\n") == [
        "ops.toml: global.pue: expected a table with value, source and date, e.g. {value = 1.25, source = 'R9', ...}"
    ]


def test_an_override_in_another_currency_is_refused():
    with pytest.raises(AssumptionsError, match="currency"):
        _override('currency = "EUR"\n')


def test_an_override_changes_only_the_keys_it_gives():
    base = CostInputs.resolve(shipped_assumptions(), "H100")
    over = CostInputs.resolve(_override('[global.pue]\nvalue = 1.1\nsource = "ops"\ndate = "2026"\n'), "H100")
    assert over.value("pue") == Decimal("1.1")
    assert over.values["pue"].source == "ops"
    assert {k: v for k, v in over.values.items() if k != "pue"} == {k: v for k, v in base.values.items() if k != "pue"}


OVERRIDES = """
[global.electricity_usd_per_kwh]
value = 0.10
source = "ops global"
date = "2026"
[site.s1.electricity_usd_per_kwh]
value = 0.11
source = "ops site"
date = "2026"
[model.H100.electricity_usd_per_kwh]
value = 0.12
source = "ops model"
date = "2026"
[model.GB200.electricity_usd_per_kwh]
value = 0.125
source = "ops model, over the site"
date = "2026"
[site.s1.model.H100.electricity_usd_per_kwh]
value = 0.13
source = "ops site+model"
date = "2026"
"""


@pytest.mark.parametrize(
    ("model", "site", "expected"),
    [
        ("B200", None, "ops global"),
        ("B200", "s1", "ops site"),
        ("H100", "s2", "ops model"),
        ("GB200", "s1", "ops model, over the site"),
        ("H100", "s1", "ops site+model"),
        ("h100", "s1", "ops site+model"),
    ],
)
def test_the_most_specific_override_wins(model, site, expected):
    values = _override(OVERRIDES).resolve(model, site)
    assert values["electricity_usd_per_kwh"].source == expected


def test_the_fleet_files_site_data_beats_the_defaults_but_not_a_site_override():
    fleet_site = Site("s1", "r", 10.0, pue=1.4, electricity_usd_per_kwh=0.09)
    plain = CostInputs.resolve(shipped_assumptions(), "B200", fleet_site)
    assert plain.value("pue") == Decimal("1.4")
    assert plain.value("electricity_usd_per_kwh") == Decimal("0.09")
    overridden = CostInputs.resolve(_override(OVERRIDES), "B200", fleet_site)
    assert overridden.value("electricity_usd_per_kwh") == Decimal("0.11")
    assert overridden.value("pue") == Decimal("1.4")


def test_a_site_without_a_price_keeps_the_default_price():
    fleet_site = Site("s9", "r", None, pue=1.3, electricity_usd_per_kwh=None)
    inputs = CostInputs.resolve(shipped_assumptions(), "H100", fleet_site)
    assert inputs.values["electricity_usd_per_kwh"] == shipped_assumptions().globals["electricity_usd_per_kwh"]


def test_loading_an_unreadable_override_names_the_file(tmp_path: Path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(AssumptionsError, match=r"nope\.toml: cannot read"):
        load_assumptions(missing)


def test_loading_an_override_file_lays_it_over_the_shipped_defaults(tmp_path: Path):
    path = tmp_path / "ops.toml"
    path.write_text('[model.H100.capex_per_gpu_usd]\nvalue = 45000\nsource = "quote"\ndate = "2026-10"\n')
    assert CostInputs.resolve(load_assumptions(path), "H100").value("capex_per_gpu_usd") == 45000
    assert SHIPPED in load_assumptions(path).origin
    assert shipped_text().startswith("#")
