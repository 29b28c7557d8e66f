"""Tenancy, idempotency, problem details, metrics, pagination and the clock ticker."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neocloud.api.app import Ticker, create_app
from neocloud.domain.clock import to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseState
from tests.api.conftest import World
from tests.api.test_roles import lease_body

PROBLEM = "application/problem+json"


def book(world: World, role: str, **extra: Any) -> dict[str, Any]:
    r = world.client.post("/v1/leases", json=lease_body(**extra), headers=world.auth(role))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


# -- tenancy ------------------------------------------------------------------------------
def test_another_tenants_lease_is_404_for_every_lease_route(world: World) -> None:
    lease = book(world, "acme-ai")["id"]
    initech = world.auth("initech")
    for method, path in [
        ("GET", f"/v1/leases/{lease}"),
        ("GET", f"/v1/leases/{lease}/capacity"),
        ("GET", f"/v1/leases/{lease}/bookings"),
        ("POST", f"/v1/leases/{lease}/confirm"),
        ("POST", f"/v1/leases/{lease}/cancel"),
        ("POST", f"/v1/leases/{lease}/terminate"),
    ]:
        r = world.client.request(method, path, headers=initech)
        assert r.status_code == 404, (path, r.text)
    assert world.services.leasing.show(lease).lease.state is LeaseState.CONFIRMED


def test_a_tenant_lists_only_its_own_leases_and_naming_another_is_404(world: World) -> None:
    items = world.client.get("/v1/leases", headers=world.auth("acme-ai")).json()["items"]
    assert items
    assert {x["tenant"] for x in items} == {"acme-ai"}
    everyone = world.client.get("/v1/leases", headers=world.auth("operator")).json()["items"]
    assert len({x["tenant"] for x in everyone}) == 4
    r = world.client.get("/v1/leases?tenant=initech", headers=world.auth("acme-ai"))
    assert r.status_code == 404


def test_a_tenant_sees_only_its_own_events_and_the_health_of_its_nodes(world: World) -> None:
    leasing = world.services.leasing
    world.clock.advance(days=2)  # the demo's leases have started
    live = next(le for le in leasing.leases(tenant="acme-ai") if le.state is LeaseState.ACTIVE)
    node = next(b.node for b in leasing.show(live.id).bookings if b.start_s <= to_s(world.clock.now()) < b.end_s)
    leasing.set_health(node, Health.FAILED, at_s=None, actor="test", reason="fails while acme holds it")
    items = world.client.get("/v1/events?limit=1000", headers=world.auth("acme-ai")).json()["items"]
    assert items
    assert {e["tenant"] for e in items} == {"acme-ai", None}
    health = [e for e in items if e["tenant"] is None]
    acme = {b.node for le in leasing.leases(tenant="acme-ai") for b in leasing.show(le.id).bookings}
    assert health
    assert all(e["kind"].startswith("node.") and e["node"] in acme for e in health)
    assert world.client.get("/v1/events?tenant=initech", headers=world.auth("acme-ai")).status_code == 404


def test_a_tenant_key_naming_another_tenant_is_refused_and_books_nothing(world: World) -> None:
    before = len(world.services.leasing.leases())
    r = world.client.post("/v1/leases", json=lease_body(tenant="initech"), headers=world.auth("acme-ai"))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["tenant"]
    assert "initech" not in r.text
    assert len(world.services.leasing.leases()) == before
    assert book(world, "acme-ai", tenant="acme-ai")["tenant"] == "acme-ai"
    assert book(world, "acme-ai")["tenant"] == "acme-ai"


def test_the_event_log_names_the_acting_key(world: World) -> None:
    lease = book(world, "acme-ai")["id"]
    world.client.post(f"/v1/leases/{lease}/cancel", headers=world.auth("acme-ai"))
    events = world.client.get(f"/v1/events?lease={lease}", headers=world.auth("operator")).json()["items"]
    key_id = world.keys.tenants["acme-ai"].split("_")[1]
    assert events
    assert all(e["actor"] == f"tenant:acme-ai (key {key_id})" for e in events)


def test_availability_is_fleet_wide_for_tenants(world: World) -> None:
    r = world.client.get("/v1/availability?start=2027-01-05&end=2027-01-06", headers=world.auth("initech"))
    assert {row["model"] for row in r.json()} == {"GB200", "H100", "H200"}


# -- idempotency --------------------------------------------------------------------------
def test_the_same_idempotency_key_twice_books_once(world: World) -> None:
    headers = {**world.auth("initech"), "Idempotency-Key": "k-1"}
    first = world.client.post("/v1/leases", json=lease_body(), headers=headers)
    again = world.client.post("/v1/leases", json=lease_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(world.services.leasing.leases(tenant="initech")) == 2  # the demo's hold and this one


def test_the_same_idempotency_key_with_another_body_is_422_naming_the_header(world: World) -> None:
    headers = {**world.auth("initech"), "Idempotency-Key": "k-2"}
    world.client.post("/v1/leases", json=lease_body(), headers=headers)
    r = world.client.post("/v1/leases", json=lease_body(gpus=8), headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


def test_idempotency_keys_are_per_principal(world: World) -> None:
    for role in ("initech", "acme-ai"):
        book(world, role)
        r = world.client.post("/v1/leases", json=lease_body(), headers={**world.auth(role), "Idempotency-Key": "x"})
        assert r.status_code == 201


def test_a_lease_change_replays_its_first_result(world: World) -> None:
    lease = book(world, "initech")["id"]
    headers = {**world.auth("initech"), "Idempotency-Key": "cancel-1"}
    first = world.client.post(f"/v1/leases/{lease}/cancel", headers=headers)
    again = world.client.post(f"/v1/leases/{lease}/cancel", headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["state"] == "cancelled"


# -- problems -----------------------------------------------------------------------------
def test_a_date_that_does_not_parse_is_422_naming_the_field(world: World) -> None:
    r = world.client.post("/v1/leases", json=lease_body(start="next tuesday"), headers=world.auth("operator"))
    body = r.json()
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["errors"][0]["field"] == "start"
    q = world.client.get("/v1/availability?start=soon&end=2027-01-06", headers=world.auth("operator"))
    assert q.status_code == 422
    assert q.json()["errors"][0]["field"] == "query.start"


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"tenant": "nobody"}, "tenant"), ({"tenant": "acme-ai", "models": ["TPU"]}, "model"), ({}, "tenant")],
)
def test_unknown_tenant_or_model_is_422(world: World, extra: dict[str, Any], field: str) -> None:
    r = world.client.post("/v1/leases/quote", json=lease_body(**extra), headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_a_refused_booking_is_409_with_alternatives(world: World) -> None:
    r = world.client.post("/v1/leases", json=lease_body(gpus=4096), headers=world.auth("acme-ai"))
    assert r.status_code in (409, 422), r.text
    r = world.client.post(
        "/v1/leases", json=lease_body(gpus=256, locality="nvlink_domain"), headers=world.auth("acme-ai")
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["status"] == 409
    assert "alternatives" in r.json()


def test_an_illegal_lease_move_is_409(world: World) -> None:
    lease = book(world, "acme-ai")["id"]
    r = world.client.post(f"/v1/leases/{lease}/confirm", headers=world.auth("acme-ai"))
    assert r.status_code == 409
    assert "cannot go from confirmed" in r.json()["detail"]


def test_unknown_node_and_key_are_404(world: World) -> None:
    op = world.auth("operator")
    assert world.client.get("/v1/nodes/nope", headers=op).status_code == 404
    assert world.client.post("/v1/nodes/nope/failure", headers=op).status_code == 404
    assert world.client.delete("/v1/keys/nope", headers=op).status_code == 404


def test_keys_never_show_hashes_and_the_token_only_once(world: World) -> None:
    op = world.auth("operator")
    created = world.client.post("/v1/keys", json={"role": "operator", "label": "ci"}, headers=op).json()
    assert created["token"].startswith(f"nc_{created['id']}_")
    listed = world.client.get("/v1/keys", headers=op).text
    assert "token" not in listed
    assert "sha256" not in listed
    assert created["token"] not in listed
    assert world.client.get("/v1/sites", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 200


# -- metrics ------------------------------------------------------------------------------
def test_metrics_expose_gpus_leases_and_requests(world: World) -> None:
    world.client.get("/v1/leases", headers=world.auth("operator"))
    text = world.client.get("/metrics", headers=world.auth("operator")).text
    assert 'neocloud_gpus{site="demo-west",state="healthy"}' in text
    assert 'neocloud_leases{state="held"} 1.0' in text
    assert 'neocloud_http_requests_total{method="GET",route="/v1/leases",status="200"} 1.0' in text
    assert "neocloud_http_request_duration_seconds_bucket" in text


def test_each_app_has_its_own_registry(world: World) -> None:
    other = create_app(world.services)
    assert other.state.metrics.registry is not world.app.state.metrics.registry


# -- pagination ---------------------------------------------------------------------------
def test_cursor_pagination_walks_all_nodes_exactly_once(world: World) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = "/v1/nodes?limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = world.client.get(query, headers=world.auth("initech")).json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(world.services.leasing.fleet().nodes)


def test_a_bad_cursor_is_422(world: World) -> None:
    r = world.client.get("/v1/nodes?cursor=%25%25", headers=world.auth("operator"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "cursor"


def test_node_filters_apply(world: World) -> None:
    items = world.client.get("/v1/nodes?model=H200&limit=1000", headers=world.auth("operator")).json()["items"]
    assert items
    assert {n["gpu_model"] for n in items} == {"H200"}
    r = world.client.get("/v1/nodes?site=atlantis", headers=world.auth("operator"))
    assert r.status_code == 422


# -- the clock ticker ---------------------------------------------------------------------
def test_the_lifespan_ticker_expires_holds_while_nobody_writes(world: World) -> None:
    world.clock.advance(days=1)
    with TestClient(create_app(world.services, tick_s=0.01)):
        for _ in range(200):
            if not world.services.leasing.leases(state=LeaseState.HELD):
                break
            time.sleep(0.01)
    assert not world.services.leasing.leases(state=LeaseState.HELD)


def test_the_lifespan_ticker_starts_queued_work_while_nobody_writes(world: World) -> None:
    queues = world.services.queues
    (pool,) = queues.pools()
    world.clock.advance(60)  # the demo's pool booking starts a second after it was built
    queues.submit(pool.name, name="probe", team="t", gpus=8, estimate_s=3600)
    with TestClient(create_app(world.services, tick_s=0.01)):
        for _ in range(200):
            if queues.workload(pool.name, 0).state == "running":
                break
            time.sleep(0.01)
    assert queues.workload(pool.name, 0).state == "running"


def test_a_failing_tick_is_logged_not_fatal(world: World, caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def broken(*_: object) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("store away")

    world.services.leasing.tick = broken  # type: ignore[method-assign]

    ticker = Ticker(world.services, 0.001)
    ticker.start()
    deadline = time.monotonic() + 10
    while calls < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    ticker.stop()
    assert calls >= 2
    assert "clock tick failed" in caplog.text


def test_the_openapi_document_lists_every_v1_route(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/leases/{lease_id}/capacity",
        "/v1/leases/{lease_id}/bookings",
        "/v1/nodes/{node_id}/repair",
        "/v1/keys/{key_id}",
        "/v1/events",
    ):
        assert path in paths


def test_a_retried_maintenance_window_is_booked_once(world: World) -> None:
    node = world.services.leasing.free_node("H200", 1_800_000_000, 1_800_086_400)
    body = {"node": node, "start": "2027-01-20", "end": "2027-01-21"}
    headers = {**world.auth("operator"), "Idempotency-Key": "mw-1"}
    first = world.client.post("/v1/maintenance", json=body, headers=headers)
    again = world.client.post("/v1/maintenance", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    windows = world.client.get(f"/v1/events?node={node}&kind=maintenance", headers=world.auth("operator")).json()
    assert len(windows["items"]) == 1


def test_event_payloads_give_instants_in_iso_8601_not_epoch_seconds(world: World) -> None:
    items = world.client.get("/v1/events?limit=1000", headers=world.auth("operator")).json()["items"]
    payloads = [e[side] for e in items for side in ("before", "after") if e[side]]
    assert any("start" in p for p in payloads)
    text = json.dumps(payloads)
    assert not re.search(r"(?<![\d.])1\d{9}(?![\d.])", text), text[:300]
    assert re.search(r'"start": "\d{4}-\d\d-\d\dT', text)
