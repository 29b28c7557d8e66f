"""The dashboard's TCO chart data: a stacked bar per GPU model, one dataset per line."""

from __future__ import annotations

from decimal import Decimal

from neocloud.adapters.assumptions import shipped_assumptions
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.economics.cost import LINE_LABELS, fleet_tco
from neocloud.web.economics import LINE_COLOURS, tco_chart


def test_the_chart_stacks_each_models_lines_to_its_tco_per_gpu_hour():
    result = fleet_tco(build_fleet(preset("demo")), shipped_assumptions())
    spec = tco_chart(result)
    assert spec["labels"] == ["GB200", "H100", "H200"]
    datasets = spec["datasets"]
    assert isinstance(datasets, list)
    assert [d["label"] for d in datasets] == list(LINE_LABELS.values())
    assert len(LINE_COLOURS) == len(LINE_LABELS)
    for k, model in enumerate(spec["labels"]):
        stacked = sum(Decimal(str(d["data"][k])) for d in datasets)
        assert stacked == result.only(model=model).per_gpu_hour.amount
