"""A lease's bookings are paged behind their own route; the lease itself summarises them per block."""

from __future__ import annotations

from typing import Any

import pytest

from neocloud.domain.ledger import HolderKind
from tests.api.conftest import World
from tests.api.test_behaviour import PROBLEM


def _whole_site(world: World) -> Any:
    """The demo's whole-site lease of demo-east (frontier-lab), one of its nodes failed and unreplaced."""
    return next(le for le in world.services.leasing.leases(tenant="frontier-lab") if le.degraded)


def _walk(world: World, lease_id: str, role: str, limit: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = world.client.get(f"/v1/leases/{lease_id}/bookings?{query}", headers=world.auth(role))
        assert r.status_code == 200, r.text
        page = r.json()
        assert 0 < len(page["items"]) <= limit  # no empty page at the end either
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the walk did not end")


def test_the_lease_body_lists_no_booking_and_names_only_its_unreplaced_nodes(world: World) -> None:
    lease = _whole_site(world)
    body = world.client.get(f"/v1/leases/{lease.id}", headers=world.auth("operator"))
    assert body.status_code == 200
    assert "bookings" not in body.json()
    booked = {b.node for b in world.services.leasing.show(lease.id).bookings}
    named = {node for node in booked if f'"{node}"' in body.text}
    assert named == set(lease.degraded_nodes)


def test_the_lease_body_summarises_its_nodes_and_gpus_per_block(world: World) -> None:
    lease = _whole_site(world)
    body = world.client.get(f"/v1/leases/{lease.id}", headers=world.auth("frontier-lab")).json()
    view = world.services.leasing.show(lease.id)
    fleet = {n.id: n for n in world.services.leasing.fleet().nodes}
    own = [b for b in view.bookings if b.kind is HolderKind.LEASE]
    assert body["bookings_total"] == len(view.bookings)
    assert body["blocks_at"] is not None
    blocks = body["blocks"]
    assert {(b["site"], b["block"]) for b in blocks} == {(fleet[b.node].site, fleet[b.node].block) for b in own}
    assert sum(b["nodes"] for b in blocks) == len(own)
    assert sum(b["gpus"] for b in blocks) == lease.gpus
    assert sum(b["unhealthy_nodes"] for b in blocks) >= len(lease.degraded_nodes) > 1  # down at booking, too
    assert {b["model"] for b in blocks} == {"GB200"}


def test_a_lease_with_spares_counts_them_in_its_blocks(world: World) -> None:
    lease = next(le for le in world.services.leasing.leases(tenant="acme-ai") if le.request.spares)
    body = world.client.get(f"/v1/leases/{lease.id}", headers=world.auth("acme-ai")).json()
    view = world.services.leasing.show(lease.id)
    at = world.services.leasing.show(lease.id).blocks_at_s
    spares = [b for b in view.bookings if b.kind is HolderKind.SPARE and b.start_s <= at < b.end_s]
    assert sum(b["spares"] for b in body["blocks"]) == len(spares)


@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_walking_the_bookings_pages_returns_every_booking_exactly_once(world: World, limit: int) -> None:
    lease = _whole_site(world)
    seen = _walk(world, lease.id, "operator", limit)
    ids = [b["id"] for b in seen]
    assert len(ids) == len(set(ids))
    assert set(ids) == {b.id for b in world.services.leasing.show(lease.id).bookings}
    assert ids == sorted(ids)  # in the order they were made
    assert {b["kind"] for b in seen} <= {"lease", "spare"}


def test_a_tenant_pages_its_own_lease_bookings(world: World) -> None:
    lease = _whole_site(world)
    assert len(_walk(world, lease.id, "frontier-lab", 50)) == len(world.services.leasing.show(lease.id).bookings)


def test_another_tenants_lease_bookings_are_404(world: World) -> None:
    lease = _whole_site(world)
    r = world.client.get(f"/v1/leases/{lease.id}/bookings", headers=world.auth("acme-ai"))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert lease.degraded_nodes[0] not in r.text
    assert world.client.get("/v1/leases/L-nope/bookings", headers=world.auth("operator")).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=1001", "limit"), ("cursor=%25%25", "cursor"), ("cursor=bm9kZS14", "cursor")],
)
def test_a_bad_bookings_page_request_is_422_naming_the_field(world: World, query: str, field: str) -> None:
    lease = _whole_site(world)
    r = world.client.get(f"/v1/leases/{lease.id}/bookings?{query}", headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"].rsplit(".", 1)[-1] == field  # "query.limit" or "limit"


def test_the_openapi_document_describes_the_bookings_page(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    op = spec["paths"]["/v1/leases/{lease_id}/bookings"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"lease_id", "limit", "cursor"}
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("PageOut_BookingOut_")
    lease = spec["components"]["schemas"]["LeaseViewOut"]["properties"]
    assert "bookings" not in lease
    assert {"blocks", "blocks_at", "bookings_total"} <= set(lease)
