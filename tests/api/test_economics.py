"""GET /v1/economics/tco and the cost service behind it, on the demo fleet."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from neocloud import bootstrap
from neocloud.domain.clock import ManualClock
from neocloud.services.demo import build_demo
from tests.api.conftest import START, World


def test_the_operator_gets_each_site_and_model_with_lines_that_add_up(world: World) -> None:
    r = world.client.get("/v1/economics/tco", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["assumptions_version"] == "2026-11"
    assert {(row["site"], row["model"]) for row in body["rows"]} == {
        ("demo-east", "GB200"),
        ("demo-west", "H100"),
        ("demo-west", "H200"),
    }
    for row in body["rows"]:
        assert Decimal(row["per_gpu_hour"]) == sum(Decimal(line["per_gpu_hour"]) for line in row["lines"])
        assert {i["key"] for i in row["inputs"]} >= {"pue", "capex_per_gpu_usd", "cost_of_debt"}
        assert all(i["source"] and i["date"] for i in row["inputs"])
    assert Decimal(body["per_gpu_hour"]) == sum(Decimal(line["per_gpu_hour"]) for line in body["lines"])
    assert Decimal(body["annual_cost"]) == sum(Decimal(row["annual_cost"]) for row in body["rows"])
    assert body["gpus"] == world.services.leasing.fleet().gpu_count


def test_the_fleet_files_site_pue_is_the_one_a_row_uses(world: World) -> None:
    body = world.client.get("/v1/economics/tco?site=demo-west", headers=world.auth("operator")).json()
    pues = {i["value"] for row in body["rows"] for i in row["inputs"] if i["key"] == "pue"}
    sources = {i["source"] for row in body["rows"] for i in row["inputs"] if i["key"] == "pue"}
    assert (pues, sources) == ({"1.3"}, {"fleet:demo-west"})


def test_a_model_filter_keeps_only_that_model(world: World) -> None:
    body = world.client.get("/v1/economics/tco?model=H200", headers=world.auth("operator")).json()
    assert [row["model"] for row in body["rows"]] == ["H200"]
    assert body["per_gpu_hour"] == body["rows"][0]["per_gpu_hour"]


@pytest.mark.parametrize(("query", "field"), [("site=mars", "site"), ("model=TPU", "model")])
def test_a_site_or_model_the_fleet_lacks_is_a_422_naming_the_field(world: World, query: str, field: str) -> None:
    r = world.client.get(f"/v1/economics/tco?{query}", headers=world.auth("operator"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


def test_the_price_book_gets_the_tco_per_gpu_hour_of_a_site_and_model(world: World) -> None:
    cost = world.services.cost
    row = next(r for r in cost.fleet_tco().rows if (r.site, r.model) == ("demo-west", "H100"))
    assert cost.tco_per_gpu_hour("demo-west", "H100") == row.tco.per_gpu_hour
    assert cost.tco_per_gpu_hour("demo-west", "A100") is None
    elsewhere = cost.tco_per_gpu_hour("not-in-the-fleet", "H100")
    assert elsewhere is not None
    assert elsewhere != row.tco.per_gpu_hour, "another site uses the default PUE and price, not demo-west's"


def test_the_operators_override_file_from_the_environment_is_applied(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ops.toml"
    path.write_text('[model.H100.capex_per_gpu_usd]\nvalue = 30000\nsource = "quote 42"\ndate = "2026-11"\n')
    monkeypatch.setenv(bootstrap.ASSUMPTIONS_ENV, str(path))
    services = bootstrap.in_memory(ManualClock(START))
    build_demo(services)
    row = next(r for r in services.cost.fleet_tco(model="H100").rows)
    assert row.tco.capex_per_gpu.amount == 30000
    assert row.tco.inputs.values["capex_per_gpu_usd"].source == "quote 42"


def test_a_bad_override_file_fails_the_cost_request_naming_the_file_and_key(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ops.toml"
    path.write_text('[global.pue]\nvalue = 7\nsource = "x"\ndate = "y"\n')
    monkeypatch.setenv(bootstrap.ASSUMPTIONS_ENV, str(path))
    from fastapi.testclient import TestClient

    from neocloud.api.app import create_app

    services = bootstrap.in_memory(ManualClock(START))
    keys = build_demo(services)
    with TestClient(create_app(services)) as client:
        r = client.get("/v1/economics/tco", headers={"Authorization": f"Bearer {keys.operator}"})
        assert r.status_code == 422
        assert f"{path}: global.pue.value: 7 is out of range" in r.json()["detail"]
        assert client.get("/v1/sites", headers={"Authorization": f"Bearer {keys.operator}"}).status_code == 200
