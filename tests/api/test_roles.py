"""Every route, for each role: operator, a tenant, no key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from neocloud.domain.access import Role
from neocloud.domain.billing import InvoiceState, period
from neocloud.domain.clock import to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseState
from tests.api.conftest import START, World
from tests.invoice_builders import a_note, an_invoice

TENANT = "initech"
HOUR = 3600


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    operator: int
    tenant: int
    body: Any = None
    setup: Callable[[World], dict[str, str]] = field(default=lambda w: {})


def lease_body(**extra: Any) -> dict[str, Any]:
    return {"gpus": 16, "models": ["H100"], "start": "2027-01-04T01:00:00Z", "end": "2027-02-01", **extra}


WINDOW = {"start": "2027-01-20", "end": "2027-01-20T04:00:00Z", "reason": "firmware"}
DEAL_BODY = {"tenant": "newco", "start": "2027-02-01", "end": "2028-02-01", "site": "demo-west", "monthly_fee": "1E5"}


def own_lease(world: World) -> dict[str, str]:
    """A confirmed 16-GPU lease of the tenant starting in an hour."""
    r = world.client.post("/v1/leases", json=lease_body(tenant=TENANT), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    return {"lease": r.json()["id"]}


def held_lease(world: World) -> dict[str, str]:
    held = world.services.leasing.leases(tenant=TENANT, state=LeaseState.HELD)
    return {"lease": held[0].id}


def active_lease(world: World) -> dict[str, str]:
    ids = own_lease(world)
    world.clock.advance(2 * HOUR)
    return ids


def free_node(world: World) -> dict[str, str]:
    t0 = to_s(START) + 10 * 86_400
    node = world.services.leasing.free_node("H200", t0, t0 + 86_400)
    assert node is not None
    return {"node": node, "start": str(t0)}


def failed_node(world: World) -> dict[str, str]:
    ids = free_node(world)
    world.services.leasing.set_health(ids["node"], Health.FAILED, at_s=None, actor="test", reason="test")
    return ids


def new_key(world: World) -> dict[str, str]:
    key, _ = world.services.create_key(role=Role.TENANT, tenant=TENANT, label="x", actor="test")
    return {"key": key.id}


def own_invoice(world: World, state: InvoiceState = InvoiceState.ISSUED) -> dict[str, str]:
    """An invoice of the tenant for December 2026, stored as a run would leave it."""
    invoice = an_invoice(f"INV-{TENANT}-2026-12", TENANT, period("2026-12"), state=state)
    with world.services.billing.store.writing() as w:
        w.add_invoice(invoice)
        note = replace(a_note(f"CN-{TENANT}-2026-12-1", invoice.id), tenant=TENANT, period="2026-12")
        w.add_credit_note(note)
    return {"invoice": invoice.id, "note": note.id}


def draft_invoice(world: World) -> dict[str, str]:
    return own_invoice(world, InvoiceState.DRAFT)


def any_node(world: World) -> dict[str, str]:
    return {"node": world.services.leasing.fleet().nodes[0].id}


CASES = {
    "sites": Case("GET", "/v1/sites", 200, 200),
    "pods": Case("GET", "/v1/pods?site=demo-west", 200, 200),
    "blocks": Case("GET", "/v1/blocks?model=H100", 200, 200),
    "nodes": Case("GET", "/v1/nodes?state=healthy&limit=5", 200, 200),
    "node": Case("GET", "/v1/nodes/{node}", 200, 200, setup=any_node),
    "quote": Case("POST", "/v1/leases/quote", 200, 200, body=lease_body(tenant=TENANT)),
    "create": Case("POST", "/v1/leases", 201, 201, body=lease_body(tenant=TENANT)),
    "list": Case("GET", "/v1/leases?state=confirmed", 200, 200),
    "show": Case("GET", "/v1/leases/{lease}", 200, 200, setup=own_lease),
    "capacity": Case("GET", "/v1/leases/{lease}/capacity", 200, 200, setup=own_lease),
    "bookings": Case("GET", "/v1/leases/{lease}/bookings?limit=5", 200, 200, setup=own_lease),
    "confirm": Case("POST", "/v1/leases/{lease}/confirm", 200, 200, setup=held_lease),
    "cancel": Case("POST", "/v1/leases/{lease}/cancel", 200, 200, setup=own_lease),
    "extend": Case("POST", "/v1/leases/{lease}/extend", 200, 200, body={"end": "2027-02-15"}, setup=own_lease),
    "shrink": Case(
        "POST", "/v1/leases/{lease}/shrink", 200, 200, body={"gpus": 8, "from": "2027-01-10"}, setup=own_lease
    ),
    "terminate": Case("POST", "/v1/leases/{lease}/terminate", 200, 200, setup=active_lease),
    "availability": Case("GET", "/v1/availability?start=2027-01-05&end=2027-01-10&model=H100", 200, 200),
    "failure": Case("POST", "/v1/nodes/{node}/failure", 200, 403, body={"reason": "Xid 79"}, setup=free_node),
    "repair": Case("POST", "/v1/nodes/{node}/repair", 200, 403, setup=failed_node),
    "degradation": Case("POST", "/v1/nodes/{node}/degradation", 200, 403, setup=free_node),
    "maintenance": Case("POST", "/v1/maintenance", 201, 403, setup=free_node),
    "lease maintenance": Case("POST", "/v1/leases/{lease}/maintenance", 201, 403, body=WINDOW, setup=own_lease),
    "events": Case("GET", "/v1/events?kind=lease", 200, 200),
    "tenants": Case("GET", "/v1/tenants", 200, 403),
    "add tenant": Case("POST", "/v1/tenants", 201, 403, body={"name": "umbrella"}),
    "keys": Case("GET", "/v1/keys", 200, 403),
    "create key": Case("POST", "/v1/keys", 201, 403, body={"role": "tenant", "tenant": TENANT, "label": "ci"}),
    "revoke key": Case("DELETE", "/v1/keys/{key}", 200, 403, setup=new_key),
    "tco": Case("GET", "/v1/economics/tco", 200, 403),
    "deal": Case("POST", "/v1/economics/deals", 200, 403, body=DEAL_BODY),
    "book": Case("GET", "/v1/economics/book", 200, 403),
    "billing run": Case("POST", "/v1/billing/runs", 201, 403, body={"period": "2026-12"}),
    "billing preview": Case("POST", "/v1/billing/runs", 200, 403, body={"period": "2027-01", "dry_run": True}),
    "deposit": Case("POST", "/v1/billing/deposits", 201, 403, body={"tenant": TENANT, "amount": "1000.00"}),
    "invoices": Case("GET", "/v1/invoices?period=2026-12", 200, 200, setup=own_invoice),
    "invoice": Case("GET", "/v1/invoices/{invoice}", 200, 200, setup=own_invoice),
    "invoice csv": Case("GET", "/v1/invoices/{invoice}.csv", 200, 200, setup=own_invoice),
    "invoice ?format=csv": Case("GET", "/v1/invoices/{invoice}?format=csv", 200, 200, setup=own_invoice),
    "issue": Case("POST", "/v1/invoices/{invoice}/issue", 200, 403, body={"reason": "sent"}, setup=draft_invoice),
    "pay": Case("POST", "/v1/invoices/{invoice}/pay", 200, 403, body={"reason": "wire"}, setup=own_invoice),
    "void": Case("POST", "/v1/invoices/{invoice}/void", 200, 403, body={"reason": "wrong"}, setup=own_invoice),
    "credit notes": Case("GET", "/v1/credit-notes", 200, 200, setup=own_invoice),
    "credit note": Case("GET", "/v1/credit-notes/{note}", 200, 200, setup=own_invoice),
    "custody": Case("GET", "/v1/custody/{node}", 200, 403, setup=any_node),
}


def _send(world: World, case: Case, role: str) -> Any:
    ids = case.setup(world)
    body = case.body
    if case.path == "/v1/maintenance":
        t0 = int(ids["start"])
        body = {"node": ids["node"], "start": t0, "end": t0 + 86_400}
    return world.client.request(case.method, case.path.format(**ids), json=body, headers=world.auth(role))


@pytest.mark.parametrize("name", list(CASES))
def test_the_operator_gets_the_expected_status(world: World, name: str) -> None:
    case = CASES[name]
    r = _send(world, case, "operator")
    assert r.status_code == case.operator, r.text


@pytest.mark.parametrize("name", list(CASES))
def test_a_tenant_gets_the_expected_status(world: World, name: str) -> None:
    case = CASES[name]
    r = _send(world, case, TENANT)
    assert r.status_code == case.tenant, r.text
    if case.tenant == 403:
        assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("name", list(CASES))
def test_no_key_is_401_with_www_authenticate(world: World, name: str) -> None:
    case = CASES[name]
    r = _send(world, case, "none")
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"] == "application/problem+json"


def test_a_malformed_or_revoked_key_is_401(world: World) -> None:
    bad = world.client.get("/v1/sites", headers={"Authorization": "Bearer nc_nope_nope"})
    assert bad.status_code == 401
    key_id = world.keys.tenants[TENANT].split("_")[1]
    world.services.keys.revoke(key_id)
    assert world.client.get("/v1/sites", headers=world.auth(TENANT)).status_code == 401


@pytest.mark.parametrize("path", ["/healthz", "/docs", "/openapi.json"])
def test_system_routes_need_no_key(world: World, path: str) -> None:
    assert world.client.get(path).status_code == 200


def test_metrics_need_an_operator_key_by_default(world: World) -> None:
    assert world.client.get("/metrics").status_code == 401
    assert world.client.get("/metrics", headers=world.auth(TENANT)).status_code == 403
    assert world.client.get("/metrics", headers=world.auth("operator")).status_code == 200
