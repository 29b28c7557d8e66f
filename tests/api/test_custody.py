"""``GET /v1/custody/{serial}``: the trail of a demo GPU through the API; an unknown
serial is 404 naming the field; a tenant key is 403 even for a node its lease holds."""

from __future__ import annotations

from decimal import Decimal

from neocloud.domain.billing import LineKind, period
from neocloud.domain.health import Health
from neocloud.domain.ledger import HolderKind
from tests.api.conftest import World


def leased_node(world: World) -> tuple[str, str, str]:
    """A healthy node booked to a demo lease: (node, lease id, tenant)."""
    healthy = {n.id for n in world.services.leasing.fleet().nodes if n.health is Health.HEALTHY}
    for lease in world.services.leasing.leases():
        for b in world.services.leasing.lease_bookings(lease.id):
            if b.kind is HolderKind.LEASE and b.node in healthy:
                return b.node, lease.id, lease.tenant
    raise AssertionError("the demo books no lease")


def test_a_gpu_serial_answers_its_node_health_and_holdings(world: World) -> None:
    node_id, lease_id, tenant = leased_node(world)
    world.services.leasing.set_health(node_id, Health.DEGRADED, at_s=None, actor="ops", reason="XID 79")
    node = next(n for n in world.services.leasing.fleet().nodes if n.id == node_id)
    r = world.client.get(f"/v1/custody/{node.gpu_serials[1]}", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["matched"], body["node"]["id"], body["node"]["gpu_index"]) == ("gpu_serial", node_id, 1)
    assert body["node"]["gpu_serial"] == node.gpu_serials[1]
    assert body["health"][-1] == {"at": "2027-01-04T00:00:00Z", "from": "healthy", "to": "degraded", "reason": "XID 79"}
    mine = [h for h in body["holdings"] if h["lease"] == lease_id]
    assert mine
    assert {h["tenant"] for h in mine} == {tenant}


def test_an_unknown_serial_is_404_naming_the_field(world: World) -> None:
    r = world.client.get("/v1/custody/GPU-nope", headers=world.auth("operator"))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "serial: no GPU serial, node serial or node id 'GPU-nope' in the fleet"


def test_a_tenant_key_is_403_even_for_a_node_its_own_lease_holds(world: World) -> None:
    node_id, _, tenant = leased_node(world)
    r = world.client.get(f"/v1/custody/{node_id}", headers=world.auth(tenant))
    assert r.status_code == 403
    assert "operator" in r.json()["detail"]


def test_after_a_billing_run_the_trail_lists_the_nodes_share_of_each_line(world: World) -> None:
    world.clock.advance(days=29)  # 2027-02-02: January has ended
    run = world.services.billing.run("2027-01", actor="ops")
    jan = period("2027-01")
    charged = {line.lease_id: i.tenant for i in run.invoices for line in i.lines if line.kind is LineKind.CHARGE}
    lease_id, tenant, node_id = next(
        (lease, tenant, b.node)
        for lease, tenant in sorted(charged.items())
        for b in world.services.leasing.lease_bookings(lease)
        if b.kind is HolderKind.LEASE and jan.clip(b.start_s, b.end_s) is not None
    )
    body = world.client.get(f"/v1/custody/{node_id}", headers=world.auth("operator")).json()
    mine = [b for b in body["billing"] if b["lease"] == lease_id]
    assert mine
    assert {(b["tenant"], b["period"], b["document"]) for b in mine} == {(tenant, "2027-01", f"INV-{tenant}-2027-01")}
    for b in mine:
        assert 0 < b["node_gpu_s"] <= b["basis_gpu_s"]
        assert abs(Decimal(b["amount"])) <= abs(Decimal(b["line_amount"]))
    [bill] = [b for b in body["bills"] if b["lease"] == lease_id]
    assert Decimal(bill["net"]) == sum(Decimal(b["amount"]) for b in mine)
    assert body["billing_note"] is None
