"""A lease's SLA credit tiers and cap through the API: the operator states them in the
lease-create body (``sla_credits``), a tenant key sending them is refused as any
operator term is, bad values are a 422 naming the field, and the lease body shows the
terms the lease was signed with to the operator and to its own tenant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World
from tests.api.test_inputs import fields, state
from tests.api.test_roles import lease_body

TENANT = "acme-ai"
CREDITS = {"tiers": [{"below_pct": "99.5", "credit_pct": "10"}, {"below_pct": 95, "credit_pct": 30}], "cap_pct": "50"}


def test_the_operator_states_tiers_and_the_tenant_reads_them_on_its_lease(world: World) -> None:
    body = lease_body(tenant=TENANT, sla="99.5", sla_credits=CREDITS)
    r = world.client.post("/v1/leases", json=body, headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    expected = {
        "tiers": [{"below_pct": "99.5", "credit_pct": "10"}, {"below_pct": "95", "credit_pct": "30"}],
        "cap_pct": "50",
    }
    assert r.json()["sla_credits"] == expected
    mine = world.client.get(f"/v1/leases/{r.json()['id']}", headers=world.auth(TENANT))
    assert mine.status_code == 200, mine.text
    assert mine.json()["sla_credits"] == expected  # its contract: the tenant sees it whole


def test_a_lease_stating_no_tiers_shows_the_defaults_it_was_signed_with(world: World) -> None:
    r = world.client.post("/v1/leases", json=lease_body(), headers=world.auth(TENANT))
    assert r.status_code == 201, r.text
    assert r.json()["sla_credits"] == {
        "tiers": [
            {"below_pct": "99", "credit_pct": "10"},
            {"below_pct": "95", "credit_pct": "25"},
            {"below_pct": "90", "credit_pct": "100"},
        ],
        "cap_pct": "100",
    }


def test_a_tenant_key_cannot_state_sla_credits(world: World) -> None:
    before = state(world)
    for path in ("/v1/leases/quote", "/v1/leases"):
        r = world.client.post(path, json=lease_body(sla_credits=CREDITS), headers=world.auth(TENANT))
        assert r.status_code == 422, r.text
        assert fields(r) == ["sla_credits"]
        assert all("set by the operator" in e["problem"] for e in r.json()["errors"])
    assert state(world) == before


@pytest.mark.parametrize(
    ("credits", "field"),
    [
        ({"tiers": [{"below_pct": "99.5", "credit_pct": "10"}]}, "sla_credits.tiers[0].below_pct"),  # above 99
        (
            {"tiers": [{"below_pct": "95", "credit_pct": "30"}, {"below_pct": "90", "credit_pct": "20"}]},
            "sla_credits.tiers[1].credit_pct",
        ),
        (
            {"tiers": [{"below_pct": "90", "credit_pct": "10"}, {"below_pct": "95", "credit_pct": "20"}]},
            "sla_credits.tiers[1].below_pct",
        ),
        ({"tiers": [{"below_pct": "95", "credit_pct": "101"}]}, "sla_credits.tiers[0].credit_pct"),
        ({"cap_pct": "0"}, "sla_credits.cap_pct"),
    ],
)
def test_bad_sla_credits_are_a_422_naming_the_field_and_book_nothing(
    world: World, credits: dict[str, Any], field: str
) -> None:
    before = state(world)
    r = world.client.post(
        "/v1/leases", json=lease_body(tenant=TENANT, sla_credits=credits), headers=world.auth("operator")
    )
    assert r.status_code == 422, r.text
    assert fields(r) == [field]
    assert state(world) == before


@pytest.mark.parametrize(
    "credits",
    [
        {"tiers": [{"below_pct": "abc", "credit_pct": "10"}]},
        {"tiers": [{"below": "95", "credit_pct": "10"}]},
        {"tiers": [{"below_pct": "95", "credit_pct": "10"}] * 9},
        {"cap": "50"},
    ],
)
def test_malformed_sla_credits_are_a_422_under_sla_credits(world: World, credits: dict[str, Any]) -> None:
    before = state(world)
    r = world.client.post(
        "/v1/leases", json=lease_body(tenant=TENANT, sla_credits=credits), headers=world.auth("operator")
    )
    assert r.status_code == 422, r.text
    assert all(f.startswith("sla_credits") for f in fields(r)), fields(r)
    assert state(world) == before
