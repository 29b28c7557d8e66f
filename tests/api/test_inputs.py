"""Every input bounded, every error clear: body size, unreadable bodies, strict and
bounded numbers, contradicting fields, tenant names, labels, health times, horizons,
and prices and SLAs that only the operator sets. Refused input writes nothing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.api.body_limit import DEFAULT_MAX_BODY_BYTES
from neocloud.domain.changes import EventQuery
from neocloud.domain.clock import ManualClock
from neocloud.domain.health import Health
from neocloud.domain.leases import Terms
from neocloud.domain.money import Money
from neocloud.services.container import Services
from neocloud.services.demo import build_demo
from tests.api.conftest import START, World
from tests.api.test_roles import lease_body

PROBLEM = "application/problem+json"
CHUNK = 64 * 1024


def fields(r: Any) -> list[str]:
    assert r.headers["content-type"] == PROBLEM, r.text
    return [e["field"] for e in r.json()["errors"]]


def state(world: World) -> tuple[int, int, set[str], int]:
    """What a refused request could have written: leases, events, tenants, keys."""
    svc = world.services
    events = svc.leasing.events(EventQuery(limit=100_000))
    return len(svc.leasing.leases()), len(events), svc.leasing.tenants(), len(svc.keys.list())


# -- the body size limit ------------------------------------------------------------------------
def test_a_body_declared_over_the_limit_is_a_413_problem_and_books_nothing(world: World) -> None:
    before = state(world)
    body = json.dumps({**lease_body(tenant="acme-ai"), "pad": "x" * DEFAULT_MAX_BODY_BYTES}).encode()
    r = world.client.post(
        "/v1/leases", content=body, headers={**world.auth("operator"), "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["connection"] == "close"
    assert r.json()["detail"] == "the request body is over the limit of 1,048,576 bytes"
    assert state(world) == before


def run_asgi(app: FastAPI, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]) -> tuple[int, bytes, int]:
    """One POST /v1/leases/quote straight through ASGI, its body sent in ``chunks``:
    (status, body, how many chunks the app read)."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/leases/quote",
        "raw_path": b"/v1/leases/quote",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    # A thread of its own: a Playwright test in the same worker may leave an event loop
    # running in this one, and asyncio.run refuses to start inside a running loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result(timeout=60)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, read


def sixteen_mib() -> Iterator[bytes]:
    """16 MiB of JSON whitespace in 64 KiB chunks (a bounded stream, far over the limit)."""
    for _ in range(16 * 1024 * 1024 // CHUNK):
        yield b" " * CHUNK


def test_a_chunked_body_is_counted_as_it_streams_and_refused_once_over_the_limit(world: World) -> None:
    status, body, read = run_asgi(
        world.app, [(b"authorization", world.auth("operator")["Authorization"].encode())], sixteen_mib()
    )
    assert status == 413
    assert json.loads(body)["status"] == 413
    assert read == DEFAULT_MAX_BODY_BYTES // CHUNK + 1  # it stopped reading at the first chunk over the limit


def test_a_content_length_that_understates_the_body_does_not_get_past_the_limit(world: World) -> None:
    token = world.auth("operator")["Authorization"].encode()
    status, _, read = run_asgi(world.app, [(b"authorization", token), (b"content-length", b"10")], sixteen_mib())
    assert status == 413
    assert read == DEFAULT_MAX_BODY_BYTES // CHUNK + 1


def test_a_body_under_the_limit_in_chunks_is_read_whole(world: World) -> None:
    body = json.dumps(lease_body(tenant="acme-ai")).encode()
    token = world.auth("operator")["Authorization"].encode()
    pieces = iter([body[:10], body[10:]])
    status, answer, read = run_asgi(world.app, [(b"authorization", token)], pieces)
    assert status == 200, answer
    assert json.loads(answer)["feasible"] is True
    assert read == 2


def test_the_body_limit_is_configurable() -> None:
    services = memory_services_with(Terms())
    keys = build_demo(services)
    client = TestClient(create_app(services, max_body_bytes=2048))
    auth = {"Authorization": f"Bearer {keys.operator}", "Content-Type": "application/json"}
    small = json.dumps(lease_body(tenant="acme-ai")).encode()
    assert client.post("/v1/leases/quote", content=small, headers=auth).status_code == 200
    padded = json.dumps({**lease_body(tenant="acme-ai"), "pad": "x" * 2048}).encode()
    r = client.post("/v1/leases/quote", content=padded, headers=auth)
    assert r.status_code == 413
    assert "2,048 bytes" in r.json()["detail"]


def test_the_openapi_document_lists_the_413(world: World) -> None:
    op = world.app.openapi()["paths"]["/v1/leases"]["post"]
    assert list(op["responses"]["413"]["content"]) == [PROBLEM]


# -- unreadable bodies ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b'{"tenant": "acme-ai", "gpus": 8', "application/json", "not valid JSON"),
        (
            b"{bad",
            "application/json",
            "not valid JSON: Expecting property name enclosed in double quotes at character 1",
        ),
        (b'{"gpus": 8}', "text/plain", "not JSON (Content-Type text/plain); send application/json"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_problem_as_the_openapi_document_says(
    world: World, content: bytes, content_type: str, problem: str
) -> None:
    before = state(world)
    headers = {**world.auth("operator"), "Content-Type": content_type}
    r = world.client.post("/v1/leases", content=content, headers=headers)
    assert r.status_code == 400, r.text
    assert fields(r) == ["body"]
    assert problem in r.json()["errors"][0]["problem"]
    assert "400" in world.app.openapi()["paths"]["/v1/leases"]["post"]["responses"]
    assert state(world) == before


def test_a_json_body_that_is_not_an_object_is_422_naming_the_body(world: World) -> None:
    r = world.client.post("/v1/leases/quote", json=[1, 2], headers=world.auth("operator"))
    assert r.status_code == 422
    assert fields(r) == ["body"]


# -- strict, bounded numbers -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "extra", "field"),
    [
        ("/v1/leases", {"gpus": True}, "gpus"),
        ("/v1/leases", {"gpus": "8"}, "gpus"),
        ("/v1/leases", {"gpus": 8.0}, "gpus"),
        ("/v1/leases", {"gpus": 0}, "gpus"),
        ("/v1/leases", {"gpus": 2**63}, "gpus"),
        ("/v1/leases", {"gpus": None, "unit": "block", "units": True}, "units"),
        ("/v1/leases", {"gpus": None, "unit": "block", "units": 10**7}, "units"),
        ("/v1/leases", {"steps": [{"at": "2027-01-10", "gpus": "16"}]}, "steps.0.gpus"),
        ("/v1/leases", {"spares": {"per": "block", "count": True}}, "spares.count"),
        ("/v1/leases", {"spares": {"per": "block", "count": 10**6}}, "spares.count"),
        ("/v1/leases", {"hold": "yes"}, "hold"),
        ("/v1/leases", {"hold": 1}, "hold"),
    ],
)
def test_numbers_and_flags_are_strict_and_bounded(world: World, path: str, extra: dict[str, Any], field: str) -> None:
    before = state(world)
    r = world.client.post(path, json=lease_body(tenant="acme-ai", **extra), headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert field in fields(r)
    assert state(world) == before


def test_shrink_and_extend_take_strict_values(world: World) -> None:
    lease = world.client.post("/v1/leases", json=lease_body(tenant="acme-ai"), headers=world.auth("operator")).json()
    op = world.auth("operator")
    r = world.client.post(f"/v1/leases/{lease['id']}/shrink", json={"gpus": "8"}, headers=op)
    assert (r.status_code, fields(r)) == (422, ["gpus"])
    r = world.client.post(
        f"/v1/leases/{lease['id']}/extend", json={"end": "2027-03-01", "allow_swap": "no"}, headers=op
    )
    assert (r.status_code, fields(r)) == (422, ["allow_swap"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=9223372036854775808", "query.after"),
        ("after=-1", "query.after"),
        ("limit=0", "query.limit"),
        ("limit=100000000000000000000", "query.limit"),
    ],
)
def test_event_paging_numbers_have_a_range(world: World, query: str, field: str) -> None:
    r = world.client.get(f"/v1/events?{query}", headers=world.auth("operator"))
    assert r.status_code == 422
    assert fields(r) == [field]


def test_an_event_cursor_past_what_sqlite_holds_is_a_422_not_a_500(tmp_path: Path) -> None:
    clock = ManualClock(START)
    services = bootstrap.services(f"sqlite:///{tmp_path / 'ledger.db'}", clock)
    keys = build_demo(services)
    client = TestClient(create_app(services), raise_server_exceptions=False)
    auth = {"Authorization": f"Bearer {keys.operator}"}
    r = client.get("/v1/events?after=9223372036854775808", headers=auth)
    assert r.status_code == 422, r.text
    assert fields(r) == ["query.after"]
    largest = client.get("/v1/events?after=9223372036854775807", headers=auth)
    assert largest.status_code == 200
    assert largest.json()["items"] == []


# -- contradicting fields ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"whole_site": "demo-west"}, "gpus, whole_site"),
        ({"unit": "block"}, "gpus, unit"),
        ({"gpus": None, "units": 2}, "units"),
        ({"gpus": None, "whole_site": "demo-west", "site": "demo-east"}, "site, whole_site"),
        ({"currency": "EUR"}, "currency"),
    ],
)
def test_contradicting_fields_are_a_422_naming_them_all(world: World, extra: dict[str, Any], named: str) -> None:
    before = state(world)
    r = world.client.post("/v1/leases", json=lease_body(tenant="acme-ai", **extra), headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert named in fields(r)
    assert state(world) == before


# -- price and SLA are the operator's --------------------------------------------------------------------
def memory_services_with(terms: Terms) -> Services:
    return bootstrap.in_memory(ManualClock(START), terms=terms)


@pytest.mark.parametrize(
    "terms", [{"price": 0}, {"price": 1e308}, {"price": "0.01", "currency": "EUR"}, {"sla": 100}, {"sla": "50"}]
)
def test_a_tenant_key_cannot_set_price_currency_or_sla(world: World, terms: dict[str, Any]) -> None:
    before = state(world)
    for path in ("/v1/leases/quote", "/v1/leases"):
        r = world.client.post(path, json=lease_body(**terms), headers=world.auth("acme-ai"))
        assert r.status_code == 422, r.text
        assert fields(r) == sorted(terms, key=["price", "currency", "sla"].index)
        assert all("set by the operator" in e["problem"] for e in r.json()["errors"])
    assert state(world) == before


def test_a_tenants_lease_gets_the_price_books_price_and_the_operators_sla() -> None:
    services = memory_services_with(Terms(Money(Decimal("3.10"), "EUR"), Decimal("99.5")))
    keys = build_demo(services)
    client = TestClient(create_app(services))
    r = client.post("/v1/leases", json=lease_body(), headers={"Authorization": f"Bearer {keys.tenants['acme-ai']}"})
    assert r.status_code == 201, r.text
    lease = r.json()
    # seeded v1: H100 reserved from the 3.99 on-demand base; a 27-day term earns no term discount
    assert (lease["price_per_gpu_hour"], lease["currency"]) == ("3.99", "USD")
    assert (lease["tier"], lease["price_version"], lease["price_override"]) == ("reserved", 1, False)
    assert lease["sla_availability_pct"] == "99.5"
    assert "margin" not in lease["quote"] or lease["quote"]["margin"] is None


def test_the_operator_may_price_a_lease_within_bounds_and_precision(world: World) -> None:
    op = world.auth("operator")
    body = lease_body(tenant="acme-ai", price="2.4975", currency="USD", sla="99.95")
    r = world.client.post("/v1/leases", json=body, headers=op)
    assert r.status_code == 201, r.text
    assert (r.json()["price_per_gpu_hour"], r.json()["sla_availability_pct"]) == ("2.4975", "99.95")
    assert (r.json()["price_version"], r.json()["price_override"]) == (None, True)  # recorded as an override
    before = state(world)
    for price, problem in [(0, "out of range"), (1e308, "1E+308 USD is out of range"), ("2.12345", "4 decimal")]:
        r = world.client.post("/v1/leases", json=lease_body(tenant="acme-ai", price=price), headers=op)
        assert r.status_code == 422, r.text
        assert fields(r) == ["price"]
        assert problem in r.json()["errors"][0]["problem"]
    r = world.client.post("/v1/leases", json=lease_body(tenant="acme-ai", sla="99.9999"), headers=op)
    assert (r.status_code, fields(r)) == (422, ["sla"])
    assert state(world) == before


# -- tenant names and key labels ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ACME-AI", "already exists as 'acme-ai'"),
        ("  umbrella", "starts or ends with whitespace"),
        ("umbrella\x00", "contains U+0000"),
        ("umbrella\n", "starts or ends with whitespace"),
        ("umb\u202eella", "RIGHT-TO-LEFT OVERRIDE"),
        ("x" * 100_000, "100,000 characters; at most 63"),
    ],
)
def test_a_tenant_name_breaking_the_rule_is_422_naming_the_field(world: World, name: str, problem: str) -> None:
    before = state(world)
    r = world.client.post("/v1/tenants", json={"name": name}, headers=world.auth("operator"))
    assert r.status_code == 422
    assert fields(r) == ["name"]
    assert problem in r.json()["errors"][0]["problem"]
    assert state(world) == before


def test_a_key_label_of_200_kb_is_422_and_creates_no_key(world: World) -> None:
    before = state(world)
    r = world.client.post("/v1/keys", json={"role": "operator", "label": "x" * 200_000}, headers=world.auth("operator"))
    assert r.status_code == 422
    assert fields(r) == ["label"]
    assert state(world) == before


# -- times ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("at", "problem"), [("1970-01-01", "more than 3 days ago"), ("2030-01-01", "in the future")])
def test_a_health_event_long_ago_or_in_the_future_is_422_and_changes_nothing(
    world: World, at: str, problem: str
) -> None:
    node = world.services.leasing.fleet().nodes[0]
    health = node.health
    before = state(world)
    r = world.client.post(f"/v1/nodes/{node.id}/failure", json={"at": at}, headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert fields(r) == ["at"]
    assert problem in r.json()["errors"][0]["problem"]
    assert "1970" not in r.json()["detail"] or at.startswith("1970")
    assert next(n for n in world.services.leasing.fleet().nodes if n.id == node.id).health is health
    assert state(world) == before


def test_a_health_event_of_an_hour_ago_is_recorded_then(world: World) -> None:
    node = next(n for n in world.services.leasing.fleet().nodes if n.health is Health.HEALTHY)
    world.clock.advance(2 * 3600)  # the fleet was loaded at START: nothing is dated before
    r = world.client.post(
        f"/v1/nodes/{node.id}/degradation", json={"at": "2027-01-04T01:00:00Z"}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    assert r.json()["health"][0]["at"] == "2027-01-04T01:00:00Z"


def test_a_lease_in_year_9999_is_refused_not_booked(world: World) -> None:
    before = state(world)
    r = world.client.post(
        "/v1/leases", json=lease_body(tenant="acme-ai", end="9999-12-31"), headers=world.auth("operator")
    )
    assert r.status_code == 422, r.text
    assert fields(r) == ["end"]
    assert "more than 10 years ahead" in r.json()["errors"][0]["problem"]
    assert state(world) == before


@pytest.mark.parametrize("path", ["/v1/nodes", "/v1/leases"])
def test_a_cursor_has_a_bounded_length(world: World, path: str) -> None:
    r = world.client.get(f"{path}?cursor={'x' * 5000}", headers=world.auth("operator"))
    assert r.status_code == 422
    assert fields(r) == ["query.cursor"]
    assert len(r.text) < 1000  # the 5,000 characters are not echoed back
