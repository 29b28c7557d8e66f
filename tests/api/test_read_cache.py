"""Reads answered from the read cache are never older than the state they show."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import World
from tests.api.test_roles import lease_body


def leases(world: World, role: str = "operator") -> dict[str, Any]:
    r = world.client.get("/v1/leases?limit=100", headers=world.auth(role))
    assert r.status_code == 200, r.text
    return {x["id"]: x for x in r.json()["items"]}


def test_a_lease_booked_after_a_cached_read_is_in_the_next_read(world: World) -> None:
    before = leases(world)
    r = world.client.post("/v1/leases", json=lease_body(tenant="acme-ai", hold=True), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    after = leases(world)
    assert set(after) - set(before) == {r.json()["id"]}


def test_a_hold_that_expires_reads_as_expired_without_any_write(world: World) -> None:
    r = world.client.post("/v1/leases", json=lease_body(tenant="acme-ai", hold=True), headers=world.auth("operator"))
    held = r.json()["id"]
    assert leases(world)[held]["state"] == "held"
    world.clock.advance(hours=1)  # past the 15-minute hold; nobody writes
    assert leases(world)[held]["state"] == "expired"


def test_availability_after_a_booking_is_not_the_cached_answer(world: World) -> None:
    path = "/v1/availability?start=2027-01-04T02:00:00Z&end=2027-01-20&model=H100"
    before = world.client.get(path, headers=world.auth("operator")).json()[0]["free_gpus"]
    r = world.client.post("/v1/leases", json=lease_body(tenant="acme-ai"), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    after = world.client.get(path, headers=world.auth("operator")).json()[0]["free_gpus"]
    assert after == before - 16


def test_a_tenant_never_gets_the_operators_cached_page(world: World) -> None:
    everyone = leases(world)
    mine = leases(world, "acme-ai")
    assert {x["tenant"] for x in mine.values()} == {"acme-ai"}
    assert len(everyone) > len(mine)
