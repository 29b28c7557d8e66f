"""The price book over HTTP: the book in force for every key, versions and publishing for
the operator only, quotes that carry tier, version and price, and margins for the operator only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.clock import ManualClock
from neocloud.domain.money import Money
from neocloud.services.demo import build_demo
from tests.api.conftest import START, World
from tests.api.test_roles import lease_body

TENANT = "acme-ai"
H100_1Y = {"gpus": 16, "models": ["H100"], "start": "2027-01-05", "end": "2028-01-05"}


def tco_fake(site: str, model: str) -> Money | None:
    """A stand-in for the cost model (the §6 owner TCO midpoint for H100 [R1])."""
    return Money(Decimal("1.50")) if model == "H100" else None


@pytest.fixture
def priced() -> World:
    clock = ManualClock(START)
    services = bootstrap.in_memory(clock, tco=tco_fake)
    keys = build_demo(services)
    app = create_app(services)
    return World(app, TestClient(app), services, clock, keys)


def test_every_key_reads_the_rate_cards_in_force_and_only_the_operator_its_authors_and_notes(world: World) -> None:
    tenant = world.client.get("/v1/prices", headers=world.auth(TENANT))
    operator = world.client.get("/v1/prices", headers=world.auth("operator"))
    assert tenant.status_code == operator.status_code == 200
    assert tenant.json()["version"] == 1
    assert {c["model"]: c["rate"] for c in tenant.json()["cards"]["on_demand"]} == {
        "H100": "3.99",
        "H200": "4.50",
        "B200": "6.69",
        "GB200": "10.50",
    }
    assert (tenant.json()["author"], tenant.json()["note"]) == (None, None)
    assert "economics.md" in operator.json()["note"]
    assert world.client.get("/v1/prices", headers=world.auth("none")).status_code == 401


def test_before_the_first_version_there_is_no_book_in_force(world: World) -> None:
    r = world.client.get("/v1/prices?at=2020-01-01T00:00:00Z", headers=world.auth(TENANT))
    assert r.status_code == 404, r.text


def test_versions_and_publishing_are_the_operators(world: World) -> None:
    body = {"cards": {"on_demand": [{"model": "H100", "rate": "4.25"}]}}
    assert world.client.get("/v1/prices/versions", headers=world.auth(TENANT)).status_code == 403
    assert world.client.post("/v1/prices/versions", json=body, headers=world.auth(TENANT)).status_code == 403
    r = world.client.post("/v1/prices/versions", json=body, headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    listed = world.client.get("/v1/prices/versions", headers=world.auth("operator")).json()["items"]
    assert [v["version"] for v in listed] == [1, 2]


@pytest.mark.parametrize(
    ("cards", "field"),
    [
        ({"on_demand": [{"model": "H100", "rate": "-1"}]}, "on_demand[0].rate"),
        ({"on_demand": [{"model": "H100", "rate": "4.123456"}]}, "on_demand[0].rate"),
        ({"spot": [{"model": "H100", "discount": "1", "eviction_notice_s": 60}]}, "spot[0].discount"),
        (
            {
                "reserved": [
                    {
                        "model": "H100",
                        "base": "4",
                        "discounts": [
                            {"min_term_days": 30, "discount": "0.1"},
                            {"min_term_days": 30, "discount": "0.2"},
                        ],
                    }
                ]
            },
            "reserved[0].discounts[1].min_term_days",
        ),
        ({"on_demand": [{"model": "H100"}]}, "on_demand[0].rate"),
        ({"surge": []}, "surge"),
    ],
)
def test_a_bad_version_is_a_422_naming_the_field_and_writes_nothing(
    world: World, cards: dict[str, Any], field: str
) -> None:
    r = world.client.post("/v1/prices/versions", json={"cards": cards}, headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert [b.version for b in world.services.pricing.versions()] == [1]


def test_a_version_in_another_currency_is_a_422_and_writes_nothing(world: World) -> None:
    body = {"cards": {"currency": "JPY", "on_demand": [{"model": "H100", "rate": "600"}]}}
    r = world.client.post("/v1/prices/versions", json=body, headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert "currency" in [e["field"] for e in r.json()["errors"]], r.json()
    assert [b.version for b in world.services.pricing.versions()] == [1]


def test_a_version_dated_in_the_past_is_a_422_and_writes_nothing(world: World) -> None:
    body = {"effective": "2027-01-01T00:00:00Z", "cards": {"on_demand": [{"model": "H100", "rate": "4.25"}]}}
    r = world.client.post("/v1/prices/versions", json=body, headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "effective"
    assert [b.version for b in world.services.pricing.versions()] == [1]


def test_a_quote_carries_tier_version_and_price_and_only_the_operator_sees_the_margin(priced: World) -> None:
    tenant = priced.client.post("/v1/leases/quote", json=H100_1Y, headers=priced.auth(TENANT)).json()
    operator = priced.client.post(
        "/v1/leases/quote", json={**H100_1Y, "tenant": TENANT}, headers=priced.auth("operator")
    ).json()
    assert (tenant["tier"], tenant["price_version"], tenant["price_per_gpu_hour"]) == ("reserved", 1, "2.3501")
    assert tenant["margin"] is None
    assert operator["margin"]["tco_per_gpu_hour"] == "1.5000"
    assert operator["margin"]["margin_per_gpu_hour"] == "0.8501"
    assert operator["total"] == tenant["total"]


def test_a_booked_lease_answers_the_operator_with_its_margin_and_the_tenant_without(priced: World) -> None:
    mine = priced.client.post("/v1/leases", json=H100_1Y, headers=priced.auth(TENANT))
    assert mine.status_code == 201, mine.text
    assert mine.json()["quote"]["margin"] is None
    body = {**H100_1Y, "tenant": TENANT, "start": "2028-02-01", "end": "2029-02-01"}
    theirs = priced.client.post("/v1/leases", json=body, headers=priced.auth("operator"))
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["quote"]["margin"]["margin_per_gpu_hour"] == "0.8501"
    shown = priced.client.get(f"/v1/leases/{mine.json()['id']}", headers=priced.auth(TENANT)).json()
    assert "margin" not in str(shown)
    assert "tco" not in str(shown)


def test_a_tenant_asks_for_a_tier_and_gets_the_books_price_for_it(world: World) -> None:
    r = world.client.post("/v1/leases/quote", json={**lease_body(), "tier": "spot"}, headers=world.auth(TENANT))
    assert r.status_code == 200, r.text
    assert (r.json()["tier"], r.json()["price_per_gpu_hour"]) == ("spot", "1.5960")
    r = world.client.post("/v1/leases/quote", json={**lease_body(), "tier": "wholesale"}, headers=world.auth(TENANT))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "tier"


def test_the_operators_margin_is_over_the_cost_models_tco_when_no_other_is_wired(world: World) -> None:
    body = {**H100_1Y, "tenant": TENANT}
    quote = world.client.post("/v1/leases/quote", json=body, headers=world.auth("operator")).json()
    sites = {n.site for n in world.services.leasing.fleet().nodes if n.gpu_model == "H100"}
    costs = {world.services.cost.tco_per_gpu_hour(site, "H100") for site in sites}
    assert None not in costs
    assert quote["margin"]["tco_per_gpu_hour"] in {str(c.amount.quantize(Decimal("0.0001"))) for c in costs if c}
