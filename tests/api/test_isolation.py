"""Tenant isolation on every surface: as tenant A, nothing of tenant B, on any route.

The world (``isolation_world``): A and B hold interleaved capacity on the same nodes,
with failures healed by swaps between them, spares, a maintenance window and a
degraded lease. Every route of the app, API and dashboard, is called with A's key
(bearer header and dashboard cookie): with A's own ids, with B's ids, and with bad
input, so that every kind of answer A can get is read, errors included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from neocloud.api.schemas import iso
from neocloud.domain.billing import period
from neocloud.domain.changes import EventQuery
from neocloud.domain.clock import to_s
from neocloud.services.visibility import Viewer
from neocloud.web.routes import COOKIE
from neocloud.web.views import short_time
from tests.api.isolation_world import T0, A, B, TwoTenants, build, client
from tests.invoice_builders import a_note, an_invoice

D = 86_400


def never(foreign: str) -> str:
    """An identifier of the same kind as ``foreign`` that was never issued."""
    if foreign.startswith("L-"):
        return "L-ffffffffffff"
    if foreign == B:
        return "nobody-at-all"
    if foreign.startswith("s1-"):
        return "s1-b1-n99"
    return "f" * len(foreign)  # an API key id


@dataclass(frozen=True)
class Probe:
    """One call as tenant A.

    ``route`` is the route's method and path template as ``app.routes`` has it.
    ``foreign`` is one of B's identifiers sent in the request: the answer must be the
    one A gets for an identifier of the same kind that never existed (:func:`never`),
    and is checked with the echoed identifier taken out. ``inventory``: the answer lists the
    fleet's nodes (every node, with health, no holder), so node names are not checked.
    ``public_times``: the answer says when free capacity changes (availability, the
    later start a refused quote suggests), which any tenant may know, so B's booking
    times are not checked.
    """

    route: str
    path: str
    status: int
    body: Any = None
    form: dict[str, str] | None = None
    foreign: str | None = None
    inventory: bool = False
    public_times: bool = False


def _at(days: float) -> str:
    return iso(to_s(T0) + int(days * D)) or ""


S2 = {"gpus": 8, "models": ["H200"], "site": "s2", "start": _at(80), "end": _at(85)}  # where B never was


def reads(w: TwoTenants) -> list[Probe]:
    """The API's reads, and the calls A may not make (403), with A's ids, B's and bad input."""
    le = {k: v.id for k, v in w.lease.items()}
    a_node = sorted(w.nodes_of(A) & w.nodes_of(B))[0]
    b_only = sorted(w.nodes_of(B) - w.nodes_of(A))[0]
    b_key = sorted(w.key_ids_of(B))[0]
    s2 = S2
    window = {"start": _at(70), "end": _at(71), "reason": "firmware"}
    return [
        Probe("GET /healthz", "/healthz", 200),
        Probe("GET /metrics", "/metrics", 403),  # the operator's (or a scrape token's), never a tenant's
        Probe("GET /v1/economics/tco", "/v1/economics/tco", 403),  # costs are the operator's
        Probe("GET /v1/economics/tco", f"/v1/economics/tco?site={B}", 403),
        # internal pools' job queues are the operator's
        Probe("GET /v1/queues", "/v1/queues", 403),
        Probe("POST /v1/queues", "/v1/queues", 403, body={"name": "a-pool"}),
        Probe("GET /v1/queues/{pool}", "/v1/queues/internal", 403),
        Probe("GET /v1/queues/{pool}/workloads/{number}", "/v1/queues/internal/workloads/0", 403),
        Probe(
            "POST /v1/queues/{pool}/workloads",
            "/v1/queues/internal/workloads",
            403,
            body={"name": "x", "team": "t", "gpus": 1, "estimate_s": 1},
        ),
        Probe("POST /v1/queues/{pool}/workloads/{number}/finish", "/v1/queues/internal/workloads/0/finish", 403),
        Probe("POST /v1/queues/{pool}/workloads/{number}/cancel", "/v1/queues/internal/workloads/0/cancel", 403),
        Probe("POST /v1/queues/{pool}/cycle", "/v1/queues/internal/cycle", 403),
        # stored keep-vs-lease studies and sweeps are the operator's
        Probe("GET /v1/studies", "/v1/studies", 403),
        Probe("GET /v1/studies/{study_id}", "/v1/studies/S-000000000000", 403),
        Probe("POST /v1/studies/keep-vs-lease", "/v1/studies/keep-vs-lease", 403, body={"name": "a-study"}),
        Probe("GET /openapi.json", "/openapi.json", 200),
        Probe("GET /docs", "/docs", 200),
        Probe("GET /v1/sites", "/v1/sites", 200),
        Probe("GET /v1/pods", "/v1/pods?site=s1", 200),
        Probe("GET /v1/blocks", "/v1/blocks", 200),
        Probe("GET /v1/blocks", "/v1/blocks?model=B200", 422),
        Probe("GET /v1/nodes", "/v1/nodes?limit=1000", 200, inventory=True),
        Probe("GET /v1/nodes", "/v1/nodes?limit=0", 422),
        Probe("GET /v1/nodes/{node_id}", f"/v1/nodes/{a_node}", 200),
        Probe("GET /v1/nodes/{node_id}", f"/v1/nodes/{b_only}", 200, inventory=True),
        Probe("GET /v1/nodes/{node_id}", f"/v1/nodes/{never(a_node)}", 404),
        Probe("POST /v1/leases/quote", "/v1/leases/quote", 200, body=s2),
        *(
            Probe("POST /v1/serving/plan", "/v1/serving/plan", 200, body={"lease": lease.id, "model": "dense-70"})
            for lease in w.leases_of(A)
        ),
        # B's lease in the body: 404 as for one never issued (tests/api/test_serving_api.py)
        Probe("POST /v1/serving/plan", "/v1/serving/plan", 422, body={"gpus": "H100=8", "model": "nope"}),
        Probe("POST /v1/leases/quote", "/v1/leases/quote", 200, body={**s2, "gpus": 48}),
        Probe("POST /v1/leases/quote", "/v1/leases/quote", 422, body={**s2, "gpus": 4096}),
        Probe(
            "POST /v1/leases/quote",
            "/v1/leases/quote",
            200,
            public_times=True,
            body={**s2, "gpus": 64, "site": "s1", "models": ["H100"], "start": _at(21.5)},
        ),
        Probe("POST /v1/leases/quote", "/v1/leases/quote", 422, body={**s2, "end": _at(70)}),
        Probe("GET /v1/leases", "/v1/leases", 200),
        Probe("GET /v1/leases", f"/v1/leases?tenant={A}&state=active", 200),
        Probe("GET /v1/leases", f"/v1/leases?tenant={B}", 404, foreign=B),
        Probe("GET /v1/leases", "/v1/leases?cursor=bm9wZQ&limit=1", 200),
        Probe("GET /v1/leases", "/v1/leases?cursor=%%%", 422),
        Probe("GET /v1/leases/{lease_id}", f"/v1/leases/{le['a1']}", 200),
        Probe("GET /v1/leases/{lease_id}", f"/v1/leases/{le['a5']}", 200),
        Probe("GET /v1/leases/{lease_id}", f"/v1/leases/{le['b1']}", 404, foreign=le["b1"]),
        Probe("GET /v1/leases/{lease_id}/bookings", f"/v1/leases/{le['a1']}/bookings", 200),
        Probe("GET /v1/leases/{lease_id}/bookings", f"/v1/leases/{le['b1']}/bookings", 404, foreign=le["b1"]),
        Probe("GET /v1/leases/{lease_id}/bookings", f"/v1/leases/{le['a1']}/bookings?limit=0", 422),
        Probe("GET /v1/leases/{lease_id}/capacity", f"/v1/leases/{le['a4']}/capacity", 200),
        Probe("GET /v1/leases/{lease_id}/capacity", f"/v1/leases/{le['b4']}/capacity", 404, foreign=le["b4"]),
        Probe("GET /v1/availability", f"/v1/availability?start={_at(0)}&end={_at(90)}", 200, public_times=True),
        Probe("GET /v1/availability", f"/v1/availability?start={_at(9)}&end={_at(1)}", 422),
        Probe("GET /v1/events", "/v1/events?limit=1000", 200),
        Probe("GET /v1/events", f"/v1/events?node={a_node}&limit=1000", 200),
        Probe("GET /v1/events", f"/v1/events?lease={le['b1']}", 200, foreign=le["b1"]),
        Probe("GET /v1/events", f"/v1/events?tenant={B}", 404, foreign=B),
        Probe("GET /v1/events", "/v1/events?kind=node.&limit=1000", 200),
        Probe("GET /v1/events", "/v1/events?after=-1", 422),
        Probe("GET /v1/tenants", "/v1/tenants", 403),
        Probe("GET /v1/prices", "/v1/prices", 200),  # the rate cards every tenant is quoted from
        Probe("GET /v1/prices", "/v1/prices?at=yesterday", 422),
        Probe("GET /v1/prices/versions", "/v1/prices/versions", 403),  # history, authors and notes: the operator's
        Probe("POST /v1/prices/versions", "/v1/prices/versions", 403, body={"cards": {"on_demand": []}}),
        Probe("GET /v1/keys", "/v1/keys", 403),
        Probe("POST /v1/tenants", "/v1/tenants", 403, body={"name": "umbrella"}),
        Probe("POST /v1/keys", "/v1/keys", 403, body={"role": "tenant", "tenant": A}),
        Probe("DELETE /v1/keys/{key_id}", f"/v1/keys/{b_key}", 403, foreign=b_key),
        Probe("POST /v1/nodes/{node_id}/failure", f"/v1/nodes/{a_node}/failure", 403),
        Probe("POST /v1/nodes/{node_id}/repair", f"/v1/nodes/{a_node}/repair", 403),
        Probe("POST /v1/nodes/{node_id}/degradation", f"/v1/nodes/{a_node}/degradation", 403),
        Probe("POST /v1/maintenance", "/v1/maintenance", 403, body={"node": a_node, "start": _at(70), "end": _at(71)}),
        # an announced window on a lease: the operator's, on A's lease as on B's
        Probe("POST /v1/leases/{lease_id}/maintenance", f"/v1/leases/{le['a1']}/maintenance", 403, body=window),
        Probe(
            "POST /v1/leases/{lease_id}/maintenance",
            f"/v1/leases/{le['b1']}/maintenance",
            403,
            body=window,
            foreign=le["b1"],
        ),
        Probe("GET /v1/economics/book", "/v1/economics/book", 403),
        Probe("GET /v1/custody/{serial}", f"/v1/custody/{a_node}", 403),  # every holder of a node: the operator's
        Probe("GET /v1/custody/{serial}", f"/v1/custody/{b_only}", 403, foreign=b_only),
        Probe(
            "POST /v1/economics/deals", "/v1/economics/deals", 403, body={"tenant": A, "start": _at(1), "end": _at(9)}
        ),
    ]


def billing(w: TwoTenants) -> list[Probe]:
    """Invoices and credit notes: A's own (each line naming A's leases), B's ids (404 as
    ids never issued), and the operator's calls (403). Stores one issued invoice and one
    credit note per tenant for December 2026 first, as a run leaves them."""
    ids = {name: _documents(w, name) for name in (A, B)}
    a_inv, a_note = ids[A]
    b_inv, b_note = ids[B]
    reason = {"reason": "test"}
    return [
        Probe("GET /v1/invoices", "/v1/invoices", 200),
        Probe("GET /v1/invoices", f"/v1/invoices?tenant={A}&period=2026-12&state=issued", 200),
        Probe("GET /v1/invoices", f"/v1/invoices?tenant={B}", 404, foreign=B),
        Probe("GET /v1/invoices", "/v1/invoices?period=2026-13", 422),
        Probe("GET /v1/invoices/{invoice_id}", f"/v1/invoices/{a_inv}", 200),
        Probe("GET /v1/invoices/{invoice_id}", f"/v1/invoices/{a_inv}?format=csv", 200),
        Probe("GET /v1/invoices/{invoice_id}", f"/v1/invoices/{b_inv}", 404, foreign=b_inv),
        Probe("GET /v1/invoices/{invoice_id}", f"/v1/invoices/{b_inv}?format=csv", 404, foreign=b_inv),
        Probe("GET /v1/invoices/{invoice_id}.csv", f"/v1/invoices/{a_inv}.csv", 200),
        Probe("GET /v1/invoices/{invoice_id}.csv", f"/v1/invoices/{b_inv}.csv", 404, foreign=b_inv),
        Probe("GET /v1/credit-notes", "/v1/credit-notes", 200),
        Probe("GET /v1/credit-notes", f"/v1/credit-notes?invoice_id={b_inv}", 200, foreign=b_inv),
        Probe("GET /v1/credit-notes", f"/v1/credit-notes?tenant={B}", 404, foreign=B),
        Probe("GET /v1/credit-notes/{note_id}", f"/v1/credit-notes/{a_note}", 200),
        Probe("GET /v1/credit-notes/{note_id}", f"/v1/credit-notes/{b_note}", 404, foreign=b_note),
        Probe("POST /v1/billing/runs", "/v1/billing/runs", 403, body={"period": "2026-12"}),
        Probe("POST /v1/billing/deposits", "/v1/billing/deposits", 403, body={"tenant": A, "amount": "1.00"}),
        *(
            Probe(f"POST /v1/invoices/{{invoice_id}}/{verb}", f"/v1/invoices/{x}/{verb}", 403, body=reason, foreign=f)
            for verb in ("issue", "pay", "void")
            for x, f in ((a_inv, None), (b_inv, b_inv))
        ),
    ]


def _documents(w: TwoTenants, tenant: str) -> tuple[str, str]:
    """The tenant's December 2026 invoice and credit note (stored once), lines on its leases."""
    invoice_id, note_id = f"INV-{tenant}-2026-12", f"CN-{tenant}-2026-12-1"
    store = w.services.billing.store
    if store.invoice(invoice_id) is None:
        lease = w.leases_of(tenant)[0].id
        lines = tuple(replace(x, lease_id=lease, period="2026-12") for x in an_invoice().lines)
        invoice = an_invoice(invoice_id, tenant, period("2026-12"), lines=lines)
        note = replace(a_note(note_id, invoice_id), tenant=tenant, period="2026-12")
        note = replace(note, lines=tuple(replace(x, lease_id=lease) for x in note.lines))
        with store.writing() as writer:
            writer.add_invoice(invoice)
            writer.add_credit_note(note)
    return invoice_id, note_id


def writes(w: TwoTenants) -> list[Probe]:
    """Every write A may make, in an order where each answers as expected, refusals included."""
    le = {k: v.id for k, v in w.lease.items()}
    s2 = S2
    return [
        Probe("POST /v1/leases", "/v1/leases", 201, body=s2),
        Probe("POST /v1/leases", "/v1/leases", 201, body={**s2, "start": _at(86), "end": _at(87), "hold": True}),
        Probe("POST /v1/leases", "/v1/leases", 409, body={**s2, "gpus": 48}),
        Probe("POST /v1/leases", "/v1/leases", 422, body={**s2, "gpus": -8}),
        Probe("POST /v1/leases/{lease_id}/confirm", f"/v1/leases/{le['b2']}/confirm", 404, foreign=le["b2"]),
        Probe("POST /v1/leases/{lease_id}/confirm", f"/v1/leases/{le['a4']}/confirm", 409),
        Probe("POST /v1/leases/{lease_id}/confirm", f"/v1/leases/{le['a7']}/confirm", 200),
        Probe("POST /v1/leases/{lease_id}/cancel", f"/v1/leases/{le['b2']}/cancel", 404, foreign=le["b2"]),
        Probe("POST /v1/leases/{lease_id}/cancel", f"/v1/leases/{le['a4']}/cancel", 409),
        Probe("POST /v1/leases/{lease_id}/cancel", f"/v1/leases/{le['a8']}/cancel", 200),
        Probe(
            "POST /v1/leases/{lease_id}/extend",
            f"/v1/leases/{le['b1']}/extend",
            404,
            body={"end": _at(41)},
            foreign=le["b1"],
        ),
        Probe("POST /v1/leases/{lease_id}/extend", f"/v1/leases/{le['a4']}/extend", 422, body={"allow_swap": True}),
        Probe("POST /v1/leases/{lease_id}/extend", f"/v1/leases/{le['a4']}/extend", 409, body={"end": _at(20)}),
        Probe("POST /v1/leases/{lease_id}/extend", f"/v1/leases/{le['a4']}/extend", 409, body={"end": _at(35)}),
        Probe("POST /v1/leases/{lease_id}/extend", f"/v1/leases/{le['a5']}/extend", 409, body={"end": _at(6)}),
        Probe(
            "POST /v1/leases/{lease_id}/extend",
            f"/v1/leases/{le['a4']}/extend",
            200,
            body={"end": _at(35), "allow_swap": True},
        ),
        Probe(
            "POST /v1/leases/{lease_id}/shrink",
            f"/v1/leases/{le['b4']}/shrink",
            404,
            body={"gpus": 8},
            foreign=le["b4"],
        ),
        Probe("POST /v1/leases/{lease_id}/shrink", f"/v1/leases/{le['a6']}/shrink", 409, body={"gpus": 7}),
        Probe("POST /v1/leases/{lease_id}/shrink", f"/v1/leases/{le['a6']}/shrink", 200, body={"gpus": 24}),
        Probe("POST /v1/leases/{lease_id}/terminate", f"/v1/leases/{le['b1']}/terminate", 404, foreign=le["b1"]),
        Probe("POST /v1/leases/{lease_id}/terminate", f"/v1/leases/{le['a7']}/terminate", 409),
        Probe("POST /v1/leases/{lease_id}/terminate", f"/v1/leases/{le['a6']}/terminate", 200, body={"at": _at(30)}),
        Probe("GET /v1/events", "/v1/events?limit=1000", 200),
    ]


def session(w: TwoTenants) -> list[Probe]:
    """Signing in and out, and the dashboard's static files."""
    return [
        Probe("GET /login", "/login?next=/nodes", 200),
        Probe("POST /login", "/login", 303, form={"api_key": w.token[A], "next": "/nodes"}),
        Probe("POST /login", "/login", 401, form={"api_key": "nc_nope_nope"}),
        Probe("GET /logout", "/logout", 303),
        Probe("POST /logout", "/logout", 303),
        Probe("* /static", "/static/dashboard.js", 200),
    ]


def dashboard(w: TwoTenants) -> list[Probe]:
    """Every dashboard page: A's own leases and nodes (each node A holds or held), B's ids."""
    le = {k: v.id for k, v in w.lease.items()}
    b_only = sorted(w.nodes_of(B) - w.nodes_of(A))[0]
    shared = sorted(w.nodes_of(A) & w.nodes_of(B))[0]
    return [
        Probe("GET /", "/", 200),
        Probe("GET /timeline", "/timeline", 200),
        Probe("GET /timeline", "/timeline?months=24", 200),
        *(Probe("GET /leases/{lease_id}", f"/leases/{lease.id}", 200) for lease in w.leases_of(A)),
        Probe("GET /leases/{lease_id}", f"/leases/{le['b1']}", 404, foreign=le["b1"]),
        Probe("GET /nodes", "/nodes", 200),
        Probe("GET /nodes", "/nodes?site=s1&page=2", 200),
        Probe("GET /nodes", "/nodes?state=failed", 200),
        *(Probe("GET /nodes/{node_id}", f"/nodes/{node}", 200) for node in sorted(w.nodes_of(A))),
        Probe("GET /nodes/{node_id}", f"/nodes/{b_only}", 404, foreign=b_only),
        Probe("GET /events", "/events", 200),
        Probe("GET /deals", "/deals", 403),
        Probe("GET /prices", "/prices", 200),  # the rate cards; no cost, margin or history for a tenant
        Probe("GET /events", f"/events?node={shared}", 200),
        Probe("GET /events", f"/events?lease={le['b1']}", 200, foreign=le["b1"]),
        Probe("GET /events", f"/events?tenant={B}", 404, foreign=B),
        Probe("GET /events", "/events?kind=lease.swapped", 200),
        Probe("GET /economics", "/economics", 403),  # costs are the operator's
        Probe("GET /queues", "/queues", 403),  # internal work is the operator's
        Probe("GET /queues/{pool}", "/queues/internal", 403),
        Probe("GET /studies", "/studies", 403),  # studies are the operator's
        Probe("GET /studies/{study_id}", "/studies/S-000000000000", 403),
        Probe("GET /serving", "/serving", 200),
        *(Probe("GET /serving", f"/serving?lease={lease.id}&model=dense-70", 200) for lease in w.leases_of(A)),
        Probe("GET /serving", f"/serving?lease={le['b1']}&model=dense-70", 404, foreign=le["b1"]),
        *billing_pages(w),
    ]


def billing_pages(w: TwoTenants) -> list[Probe]:
    """The invoices page (A's invoices, notes and month-so-far preview) and one invoice
    with its downloads: A's own, B's the 404 page as an id never issued."""
    (a_inv, _), (b_inv, _) = _documents(w, A), _documents(w, B)
    return [
        Probe("GET /invoices", "/invoices", 200),
        *(Probe(f"GET /invoices/{{invoice_id}}{x}", f"/invoices/{a_inv}{x}", 200) for x in ("", ".csv", ".json")),
        *(
            Probe(f"GET /invoices/{{invoice_id}}{x}", f"/invoices/{b_inv}{x}", 404, foreign=b_inv)
            for x in ("", ".csv", ".json")
        ),
    ]


@pytest.fixture
def world() -> TwoTenants:
    return build()


def test_tenant_a_reads_nothing_of_tenant_b_on_any_route(world: TwoTenants) -> None:
    """Every route, called as A, answers without a trace of B.

    What counts as B's, recomputed from the ledger after every call (A's writes can
    make a node A's too):

    - B's tenant name (in any letter case), B's lease ids and B's API key ids;
    - the ids of B's bookings, wherever an answer lists bookings;
    - B's holdings, which are nodes over time. A node's name alone is fleet inventory
      that every tenant may list (``/v1/nodes``), so a holding shows as: the name of
      a node only B ever held (outside the inventory answers), or a start or end of
      one of B's bookings, written as the API writes times (ISO 8601), as the
      dashboard does (``2027-01-14 03:17``) or in epoch seconds. B's times all have
      odd minutes, so none is a time of A's own (checked first). Chart data in epoch
      milliseconds is not searched: the overview's availability chart plots when free
      capacity changes, which is public.

    Every route of ``app.routes`` must be probed (or excused in ``NOT_PROBED``), so a
    page added later is covered or the test fails naming it.
    """
    _assert_b_times_are_not_a_times(world)
    probed: set[str] = set()
    with client(world) as http:
        for phase in (reads, billing, dashboard, writes, dashboard, session):  # pages again after the writes
            for probe in phase(world):
                probed.add(probe.route)
                body = _call(http, world, probe, probe.path)
                if probe.foreign:
                    unknown = never(probe.foreign)
                    other = _call(http, world, probe, probe.path.replace(probe.foreign, unknown))
                    assert body.replace(probe.foreign, unknown) == other, (probe, body, other)
                    body = body.replace(probe.foreign, "<probe>")
                leaks = _traces_of_b(world, probe, body)
                assert not leaks, f"{probe.route} {probe.path}: {leaks} in {body[:3000]}"
    _assert_every_route_is_probed(world, probed)


def test_a_refused_extend_tells_the_tenant_what_blocks_it_and_the_operator_who(world: TwoTenants) -> None:
    a4 = world.lease["a4"].id
    with client(world) as http:
        body = {"end": _at(35)}
        mine = http.post(f"/v1/leases/{a4}/extend", json=body, headers=_bearer(world, A)).json()
        ops = http.post(f"/v1/leases/{a4}/extend", json=body, headers=_bearer(world, "operator")).json()
    assert mine["detail"] == (
        f"extend {a4} to 2027-02-08: 3 of your nodes are booked after 2027-02-03; free nodes in the same "
        "blocks could take over 3 of them from then. Ask again allowing the swap"
    )
    assert (mine["blocked_nodes"], mine["blocked_from"], "holders" in mine) == (3, "2027-02-03T00:00:00Z", False)
    b2 = world.lease["b2"].id
    assert ops["holders"] == [f"lease {b2}", f"spare {b2}"]
    assert f"held by lease {b2}, spare {b2}" in ops["detail"]
    assert "s1-b1-n05->s1-b1-n" in ops["detail"]


def test_a_tenant_sees_a_nodes_health_events_only_while_it_held_the_node(world: TwoTenants) -> None:
    a1 = world.services.leasing.show(world.lease["a1"].id).bookings
    failed_in_a1 = next(b.node for b in a1 if b.end_s == to_s(T0) + 2 * 3600)  # cut when it failed
    held_by_a1_before = sorted(b.node for b in a1 if b.end_s == to_s(T0) + 10 * D)
    seen = world.services.visibility.events(Viewer(A), EventQuery(kind="node.", limit=1000))
    assert [(e.event.node, e.event.kind) for e in seen] == [(failed_in_a1, "node.failed")]
    everyone = world.services.leasing.events(EventQuery(kind="node.", limit=1000))
    hidden = {(e.event.node, e.event.kind) for e in everyone if e not in seen}
    assert (failed_in_a1, "node.healthy") in hidden  # repaired after a1 had left the node
    assert any(kind == "node.failed" and node in held_by_a1_before for node, kind in hidden)  # under b1, later


def test_a_tenants_event_pages_walk_its_events_and_its_nodes_health_exactly_once(world: TwoTenants) -> None:
    viewer = Viewer(A)
    whole = world.services.visibility.events(viewer, EventQuery(limit=1000))
    walked: list[int] = []
    after = 0
    for _ in range(len(whole) + 1):
        page = world.services.visibility.events(viewer, EventQuery(after_seq=after, limit=3))
        assert len(page) <= 3
        walked += [e.seq for e in page]
        if len(page) < 3:
            break
        after = page[-1].seq
    assert walked == [e.seq for e in whole]
    assert any(e.event.tenant is None for e in whole)
    assert any(e.event.tenant == A for e in whole)


def test_the_nodes_page_shows_a_node_someone_else_holds_now_as_taken_not_by_whom(world: TwoTenants) -> None:
    now = to_s(world.clock.now())
    seen = world.services.visibility.nodes_at(Viewer(A), now)
    b_now = {b.node for b in world.bookings_of(B) if b.start_s <= now < b.end_s}
    assert seen.nodes is not None
    assert b_now & seen.nodes
    assert seen.taken == b_now & seen.nodes
    assert not seen.taken & set(seen.held)
    assert {b.holder for b in seen.held.values()} <= {le.id for le in world.leases_of(A)}


def _bearer(world: TwoTenants, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token[who]}"}


#: Routes no probe calls, each with the reason. Empty: every route is called.
NOT_PROBED: dict[str, str] = {}


def _assert_every_route_is_probed(world: TwoTenants, probed: set[str]) -> None:
    routes = set()
    for context in iter_route_contexts(world.app.routes):
        methods = set(context.methods or {"*"}) - {"HEAD"}  # HEAD is GET without a body
        routes |= {f"{m} {context.path}" for m in methods}
    assert not probed - routes, f"probes of routes the app does not have: {sorted(probed - routes)}"
    missing = routes - probed - set(NOT_PROBED)
    assert not missing, f"routes no probe calls as tenant A (add a probe or a reason): {sorted(missing)}"


def _assert_b_times_are_not_a_times(world: TwoTenants) -> None:
    a_times = {t for b in world.bookings_of(A) for t in (b.start_s, b.end_s)}
    a_times |= {t for le in world.leases_of(A) for h in le.history for t in (h.at_s,)}
    b_times = {t for b in world.bookings_of(B) for t in (b.start_s, b.end_s)}
    assert b_times
    assert not a_times & b_times
    assert all(t % 3600 // 60 % 2 == 1 for t in b_times), "B's times must have odd minutes"


def _call(http: TestClient, world: TwoTenants, probe: Probe, path: str) -> str:
    method = probe.route.split(" ")[0]
    method = "GET" if method == "*" else method
    http.cookies.clear()
    headers = {"Authorization": f"Bearer {world.token[A]}", "Cookie": f"{COOKIE}={world.token[A]}"}
    if probe.form is not None:
        r = http.request(method, path, data=probe.form, headers=headers)
    else:
        r = http.request(method, path, json=probe.body, headers=headers)
    assert r.status_code == probe.status, (probe, r.text[:2000])
    return r.text


def _traces_of_b(world: TwoTenants, probe: Probe, body: str) -> list[str]:
    found = []
    if B.lower() in body.lower():
        found.append(f"tenant name {B!r}")
    found += [f"lease id {x}" for x in sorted(le.id for le in world.leases_of(B)) if x in body]
    found += [f"key id {x}" for x in sorted(world.key_ids_of(B)) if x in body]
    if not probe.inventory:
        only_b = world.nodes_of(B) - world.nodes_of(A)
        found += [f"node {x} that only B held" for x in sorted(only_b) if re.search(rf"{x}(?!\d)", body)]
    if not probe.public_times:
        for t in sorted({t for b in world.bookings_of(B) for t in (b.start_s, b.end_s)}):
            for shown in (iso(t) or "", short_time(t), str(t)):
                if re.search(rf"(?<!\d){re.escape(shown)}(?!\d)", body):
                    found.append(f"time {shown} of B's bookings")
    booking_ids = {b.id for b in world.bookings_of(B)}
    found += [f"booking id {i}" for i in _listed_booking_ids(body) if i in booking_ids]
    return found


def _listed_booking_ids(body: str) -> list[int]:
    """Ids of the bookings a JSON answer lists (``"bookings": [{"id": ...}]`` anywhere)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    out: list[int] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for row in item.get("bookings", []) if isinstance(item.get("bookings"), list) else []:
                if isinstance(row, dict) and isinstance(row.get("id"), int):
                    out.append(row["id"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out
