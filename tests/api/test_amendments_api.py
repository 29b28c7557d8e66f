"""Amendments in the lease API: listed in every lease body (a tenant reads its own),
announced maintenance windows (operator only, with the notice), late health reports."""

from __future__ import annotations

from typing import Any

from neocloud.domain.clock import to_s
from neocloud.domain.health import Health
from tests.api.conftest import START, World
from tests.api.test_roles import TENANT, WINDOW, lease_body

PROBLEM = "application/problem+json"
HOUR = 3600


def own_lease(world: World, **extra: Any) -> dict[str, Any]:
    r = world.client.post("/v1/leases", json=lease_body(tenant=TENANT, **extra), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_an_extension_shows_in_the_lease_body_as_one_extend_amendment(world: World) -> None:
    lease = own_lease(world)
    assert lease["amendments"] == []
    assert lease["maintenance_notice_s"] == 7 * 86_400
    r = world.client.post(f"/v1/leases/{lease['id']}/extend", json={"end": "2027-02-15"}, headers=world.auth(TENANT))
    assert r.status_code == 200, r.text
    (a,) = r.json()["amendments"]
    assert (a["kind"], a["effective"]) == ("extend", "2027-02-01T00:00:00Z")
    assert a["before"] == lease["contract"]
    assert (
        a["after"]
        == r.json()["contract"]
        == [{"start": "2027-01-04T01:00:00Z", "end": "2027-02-15T00:00:00Z", "gpus": 16}]
    )
    shown = world.client.get(f"/v1/leases/{lease['id']}", headers=world.auth(TENANT)).json()
    assert shown["amendments"] == [a]


def test_the_operator_announces_a_window_and_the_tenant_reads_it(world: World) -> None:
    lease = own_lease(world)
    r = world.client.post(f"/v1/leases/{lease['id']}/maintenance", json=WINDOW, headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    (a,) = r.json()["amendments"]
    assert a["kind"] == "maintenance"
    assert a["window"] == {"start": "2027-01-20T00:00:00Z", "end": "2027-01-20T04:00:00Z"}
    assert (a["reason"], a["before"], a["nodes"]) == ("firmware", a["after"], [])
    tenant_view = world.client.get(f"/v1/leases/{lease['id']}", headers=world.auth(TENANT)).json()
    assert tenant_view["amendments"] == [a]


def test_a_window_with_too_little_notice_is_409_with_the_reason_and_writes_nothing(world: World) -> None:
    lease = own_lease(world)
    body = {"start": "2027-01-06", "end": "2027-01-06T04:00:00Z", "reason": "firmware"}
    r = world.client.post(f"/v1/leases/{lease['id']}/maintenance", json=body, headers=world.auth("operator"))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == PROBLEM
    assert "announced 2 days ahead, but its contract requires 7 days of notice" in r.json()["detail"]
    assert "2027-01-11T00:00:00Z" in r.json()["detail"]
    assert world.services.leasing.show(lease["id"]).lease.amendments == ()


def test_a_window_with_bad_fields_is_422_naming_them(world: World) -> None:
    lease = own_lease(world)
    r = world.client.post(
        f"/v1/leases/{lease['id']}/maintenance",
        json={"start": "soon", "end": "2027-01-20"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"start", "reason"}
    r = world.client.post(
        f"/v1/leases/{lease['id']}/maintenance",
        json={**WINDOW, "end": WINDOW["start"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["end"]
    assert world.services.leasing.show(lease["id"]).lease.amendments == ()


def test_a_tenant_sees_the_nodes_of_its_own_swaps_which_are_in_its_bookings(world: World) -> None:
    lease = own_lease(world)
    world.clock.advance(2 * HOUR)
    leasing = world.services.leasing
    victim = sorted(b.node for b in leasing.show(lease["id"]).bookings)[0]
    r = world.client.post(f"/v1/nodes/{victim}/failure", json={"reason": "xid 79"}, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    shown = world.client.get(f"/v1/leases/{lease['id']}", headers=world.auth(TENANT)).json()
    (a,) = shown["amendments"]
    assert a["kind"] == "swap"
    assert a["nodes"][0]["out"] == victim
    pages = world.client.get(f"/v1/leases/{lease['id']}/bookings?limit=100", headers=world.auth(TENANT)).json()
    held = {b["node"] for b in pages["items"]}
    assert {a["nodes"][0]["out"], a["nodes"][0]["replacement"]} <= held


def test_a_late_failure_before_a_later_record_is_409_naming_it(world: World) -> None:
    node = world.services.leasing.free_node("H200", to_s(START) + 86_400, to_s(START) + 2 * 86_400)
    assert node is not None
    world.clock.advance(3 * HOUR)
    ops = world.auth("operator")
    r = world.client.post(f"/v1/nodes/{node}/degradation", json={"at": "2027-01-04T02:00:00Z"}, headers=ops)
    assert r.status_code == 200, r.text
    r = world.client.post(f"/v1/nodes/{node}/failure", json={"at": "2027-01-04T01:00:00Z"}, headers=ops)
    assert r.status_code == 409, r.text
    assert "before its latest health record (degraded at 2027-01-04T02:00:00Z)" in r.json()["detail"]
    health = {n.id: n.health for n in world.services.leasing.fleet().nodes}
    assert health[node] is Health.DEGRADED
    r = world.client.post(f"/v1/nodes/{node}/failure", json={"at": "2027-01-04T02:30:00Z"}, headers=ops)
    assert r.status_code == 200, r.text


def test_the_operator_may_set_the_notice_and_a_tenant_may_not(world: World) -> None:
    lease = own_lease(world, maintenance_notice_days=1)
    assert lease["maintenance_notice_s"] == 86_400
    body = {"start": "2027-01-05T01:00:00Z", "end": "2027-01-05T02:00:00Z", "reason": "reseat"}
    r = world.client.post(f"/v1/leases/{lease['id']}/maintenance", json=body, headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    r = world.client.post("/v1/leases", json=lease_body(maintenance_notice_days=0), headers=world.auth(TENANT))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["maintenance_notice_days"]
    r = world.client.post(
        "/v1/leases", json=lease_body(tenant=TENANT, maintenance_notice_days=366), headers=world.auth("operator")
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["maintenance_notice_days"]
