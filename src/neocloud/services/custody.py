"""The custody trail (issue 11 §5): GPU serial -> node -> health history -> who held it
when -> what each holder was billed and credited for it. Operator only.

The service gathers what the pure core (:mod:`neocloud.billing.custody`) needs: the
fleet, the node's bookings and health records, the leases that held it (their tenants
and the swaps their amendments record), and their tenants' stored invoices and credit
notes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from neocloud.billing.custody import (
    BilledShare,
    Holding,
    Trail,
    health_steps,
    holdings,
    locate,
    node_billing,
    swaps_of,
)
from neocloud.domain.access import OperatorOnly
from neocloud.domain.billing import InvoiceQuery
from neocloud.domain.fleet import Fleet
from neocloud.domain.ledger import HolderKind
from neocloud.services.visibility import OPERATOR, Viewer

if TYPE_CHECKING:
    from neocloud.services.billing import BillingService
    from neocloud.services.leasing import LeasingService


class CustodyService:
    def __init__(self, leasing: LeasingService, billing: BillingService | None = None) -> None:
        """``billing``: the stored invoices and credit notes (without it, the trail has
        no billing part and says so)."""
        self.leasing = leasing
        self.billing = billing

    def trail(self, serial: str, *, viewer: Viewer = OPERATOR) -> Trail:
        """The trail of the node ``serial`` names (a GPU serial, a node serial or a node
        id). A tenant viewer gets :class:`OperatorOnly` (other tenants held the node);
        an unknown serial is ``NotFound`` naming the field."""
        if not viewer.is_operator:
            raise OperatorOnly("the custody trail is the operator's: it shows every tenant that held a node")
        fleet = self.leasing.fleet()
        found = locate(fleet.nodes, serial)
        located = replace(found, node=replace(found.node))  # a copy: the service's cached fleet changes
        node = located.node.id
        bookings = self.leasing.node_bookings(node)
        held_by = {b.holder for b in bookings if b.kind in (HolderKind.LEASE, HolderKind.SPARE)}
        leases = [lease for lease in self.leasing.leases() if lease.id in held_by]
        tenants = {lease.id: lease.tenant for lease in leases}
        swaps = [s for lease in leases for s in swaps_of(lease)]
        held = holdings(node, bookings, tenants, swaps)
        billed, note = self._billing(node, held, fleet)
        return Trail(
            serial=serial.strip(),
            located=located,
            health=health_steps(self.leasing.store.health_records(node)),
            holdings=held,
            billing=billed,
            billing_note=note,
        )

    def _billing(
        self, node: str, held: tuple[Holding, ...], fleet: Fleet
    ) -> tuple[tuple[BilledShare, ...], str | None]:
        """The node's shares of the stored invoices and credit notes of the leases that
        held it, and a note when there are none (saying why)."""
        leases = {h.holder: h.tenant for h in held if h.kind is HolderKind.LEASE and h.tenant is not None}
        if self.billing is None:
            return (), "billing is not available here: no invoice store is wired to this trail"
        if not leases:
            return (), "no lease held this node: nothing was billed for it"
        lease_bookings = {lease_id: self.leasing.lease_bookings(lease_id) for lease_id in sorted(leases)}
        wanted = {b.node for bs in lease_bookings.values() for b in bs}
        gpus_of = {n.id: n.gpu_count for n in fleet.nodes if n.id in wanted}
        store = self.billing.store
        invoices = [i for t in sorted(set(leases.values())) for i in store.invoices(InvoiceQuery(tenant=t))]
        notes = [c for t in sorted(set(leases.values())) for c in store.credit_notes(t)]
        billed = node_billing(node, lease_bookings, gpus_of, invoices, notes)
        return billed, None if billed else "no stored invoice or credit note bills a lease for its time on this node"
