"""The custody trail of one GPU or node: where it sits, its health over time, who held
it when, and what each holder was billed and credited for it. What an RMA claim or a
billing dispute asks for, in one value.

Pure: the service hands in the fleet's nodes, the node's bookings, its health records,
the leases that held it and their tenants' stored invoices and credit notes; nothing
here reads a store or a clock.

- **Lookup.** A serial names a GPU (``Node.gpu_serials``), a node's serial or a node id,
  tried in that order of specificity (a GPU is what an RMA names); the fleet loader
  refuses a GPU serial that is also a node's id or serial, so the answer is unique for
  GPUs. Node serials are not required to be unique: a serial shared by several nodes is
  refused with the nodes' ids, never answered with one of them.
- **Health.** Every record in the order written; ``from`` is the previous record's
  state, healthy before the first (a node is healthy until a record says otherwise).
- **Holdings.** Every non-empty booking of the node, in time order, ``[start, end)``.
  A booking cut short by a swap keeps its past interval (the ledger truncates, never
  deletes); a booking released before it began held nothing and does not appear. A
  holding that a swap started or ended names the other node, when and why, from the
  lease's typed amendments (a swap for a failure or maintenance, an extension onto
  other nodes: :func:`swaps_of`).
- **Billing** (:func:`node_billing`), per lease that held the node and billing period,
  from the stored invoices that were issued (a draft billed nothing yet, a voided draft
  never will) and the credit notes (never re-rated here):

  - a ``charge`` or ``adjustment`` line of a lease (an invoice's debit, or a credit
    note's amount given back) is attributed to the node by its share of the lease's
    booked GPU-seconds in the line's period: ``amount x node GPU-s / lease GPU-s``,
    counting the lease's own bookings (not its spares) clipped to the period, healthy
    or not (time the node was down is what the SLA credit answers for);
  - an ``sla_credit`` line is attributed only when its evidence names the node, by the
    node's share of the line's evidence GPU-seconds;
  - a ``prepayment`` line is the tenant's own money, not usage of any node: never
    attributed.

  Each attributed amount is rounded once by :func:`~neocloud.domain.money.round_money`
  (so the shares of one line over all its nodes add up to it within half a cent per
  node); signs are what the tenant owes: a credit note's lines count negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from neocloud.billing.invoicing import was_issued
from neocloud.domain.billing import DEFAULT_TZ, CreditNote, Invoice, InvoiceLine, LineKind, Period, period
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.fleet import Node
from neocloud.domain.health import Health, HealthRecord
from neocloud.domain.leases import Lease
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import Money, round_money


class Matched(StrEnum):
    """What a looked-up serial turned out to name."""

    GPU_SERIAL = "gpu_serial"
    NODE_SERIAL = "node_serial"
    NODE_ID = "node_id"


@dataclass(frozen=True, slots=True)
class Located:
    """The node a serial names; ``gpu_index`` when it named one of its GPUs."""

    node: Node
    matched: Matched
    gpu_index: int | None = None

    @property
    def gpu_serial(self) -> str | None:
        return None if self.gpu_index is None else self.node.gpu_serials[self.gpu_index]


@dataclass(frozen=True, slots=True)
class HealthStep:
    """One health change of the node: from ``from_state`` to ``to_state`` at ``at_s``."""

    at_s: int
    from_state: Health
    to_state: Health
    reason: str


@dataclass(frozen=True, slots=True)
class SwapRecord:
    """A recorded swap: ``lease_id`` moved from ``from_node`` to ``to_node`` at ``at_s``,
    because ``reason`` (a failure, a spare, maintenance, an extension)."""

    lease_id: str
    from_node: str
    to_node: str
    at_s: int
    reason: str


@dataclass(frozen=True, slots=True)
class Swap:
    """The other side of a swap seen from this node: ``other_node`` at ``at_s``, why."""

    at_s: int
    other_node: str
    reason: str


@dataclass(frozen=True, slots=True)
class Holding:
    """The node held by ``holder`` (a lease id for a lease or its spare, a pool's or a
    maintenance window's name) over ``[start_s, end_s)``; ``tenant`` for a lease or a
    spare. ``swapped_in``: a swap from another node started it; ``swapped_out``: a swap
    to another node ended it."""

    kind: HolderKind
    holder: str
    tenant: str | None
    start_s: int
    end_s: int
    booking_id: int
    swapped_in: Swap | None = None
    swapped_out: Swap | None = None

    @property
    def lease_id(self) -> str | None:
        return self.holder if self.kind in (HolderKind.LEASE, HolderKind.SPARE) else None


@dataclass(frozen=True, slots=True)
class Trail:
    """Everything the custody trail says about the node ``serial`` names. ``billing``:
    per lease and period, what its tenant was billed and credited for this node
    (empty, with ``billing_note`` saying why, where no invoice covers it)."""

    serial: str
    located: Located
    health: tuple[HealthStep, ...]
    holdings: tuple[Holding, ...]
    billing: tuple[BilledShare, ...] = ()
    billing_note: str | None = None

    @property
    def bills(self) -> tuple[NodeBill, ...]:
        """The billing part summed per lease and period (:func:`bills_of`)."""
        return bills_of(self.billing)


@dataclass(frozen=True, slots=True)
class NodeBill:
    """What ``tenant`` was billed and credited for the node under ``lease_id`` in
    ``period``: ``billed`` the sum of its charge and debit shares, ``credited`` the sum
    of its SLA credit and credit-note shares (a positive amount given back), ``net``
    what it owes for the node."""

    lease_id: str
    tenant: str
    period: str
    billed: Money
    credited: Money

    @property
    def net(self) -> Money:
        return Money(self.billed.amount - self.credited.amount, self.billed.currency)


@dataclass(frozen=True, slots=True)
class BilledShare:
    """The part of one stored line that is this node's: ``line`` of ``document`` (an
    invoice, or with ``credit_note`` a credit note) for ``lease_id`` in ``period``,
    ``node_gpu_s`` of its ``basis_gpu_s`` (the lease's booked GPU-seconds in the period,
    or for an SLA credit the GPU-seconds its evidence lists), and ``amount``: the share
    rounded once, signed as the tenant owes it (a credit note's line counts negative)."""

    document: str
    credit_note: bool
    state: str
    tenant: str
    lease_id: str
    period: str
    kind: LineKind
    description: str
    line_amount: Money
    node_gpu_s: int
    basis_gpu_s: int
    amount: Money


def locate(nodes: Iterable[Node], serial: str) -> Located:
    """The node ``serial`` names (a GPU serial, a node serial or a node id, in that
    order). :class:`NotFound` naming the field when nothing has it; :class:`RequestError`
    when it is the serial of several nodes (the ids listed, none chosen)."""
    wanted = serial.strip()
    by_serial: list[Node] = []
    by_id: Node | None = None
    for node in nodes:
        if wanted in node.gpu_serials:
            return Located(node, Matched.GPU_SERIAL, node.gpu_serials.index(wanted))
        if node.serial == wanted:
            by_serial.append(node)
        if node.id == wanted:
            by_id = node
    if len(by_serial) > 1:
        ids = ", ".join(n.id for n in by_serial[:10]) + (" ..." if len(by_serial) > 10 else "")
        raise RequestError([f"serial: {wanted!r} is the serial of {len(by_serial)} nodes ({ids}); give a node id"])
    if by_serial:
        return Located(by_serial[0], Matched.NODE_SERIAL)
    if by_id is not None:
        return Located(by_id, Matched.NODE_ID)
    raise NotFound(f"serial: no GPU serial, node serial or node id {wanted!r} in the fleet")


def health_steps(records: Iterable[HealthRecord]) -> tuple[HealthStep, ...]:
    """The node's health records as changes with their ``from`` state."""
    steps: list[HealthStep] = []
    state = Health.HEALTHY
    for r in records:
        steps.append(HealthStep(r.at_s, state, r.state, r.reason))
        state = r.state
    return tuple(steps)


def swaps_of(lease: Lease) -> list[SwapRecord]:
    """The node moves ``lease``'s amendments recorded (``(out, in)`` pairs; a node a
    shrink released has no ``in`` and is no swap), each at its effective instant."""
    return [
        SwapRecord(lease.id, out, into, a.effective_s, a.reason)
        for a in lease.amendments
        for out, into in a.nodes
        if into is not None
    ]


def holdings(
    node: str, bookings: Iterable[Booking], tenants: Mapping[str, str], swaps: Iterable[SwapRecord]
) -> tuple[Holding, ...]:
    """The node's non-empty bookings as holdings in time order, each with the tenant of
    its lease (``tenants``: lease id -> tenant) and the swaps that started or ended it."""
    into: dict[tuple[str, int], SwapRecord] = {}
    out_of: dict[tuple[str, int], SwapRecord] = {}
    for s in swaps:
        if s.to_node == node:
            into[(s.lease_id, s.at_s)] = s
        if s.from_node == node:
            out_of[(s.lease_id, s.at_s)] = s
    found: list[Holding] = []
    for b in sorted(bookings, key=lambda b: (b.start_s, b.id)):
        if b.node != node or b.start_s >= b.end_s:
            continue
        leased = b.kind in (HolderKind.LEASE, HolderKind.SPARE)
        came = into.get((b.holder, b.start_s)) if b.kind is HolderKind.LEASE else None
        went = out_of.get((b.holder, b.end_s)) if b.kind is HolderKind.LEASE else None
        found.append(
            Holding(
                kind=b.kind,
                holder=b.holder,
                tenant=tenants.get(b.holder) if leased else None,
                start_s=b.start_s,
                end_s=b.end_s,
                booking_id=b.id,
                swapped_in=None if came is None else Swap(came.at_s, came.from_node, came.reason),
                swapped_out=None if went is None else Swap(went.at_s, went.to_node, went.reason),
            )
        )
    return tuple(found)


def node_billing(
    node: str,
    lease_bookings: Mapping[str, Sequence[Booking]],
    gpus_of: Mapping[str, int],
    invoices: Sequence[Invoice],
    credit_notes: Sequence[CreditNote],
) -> tuple[BilledShare, ...]:
    """What each lease that held ``node`` was billed and credited for it (the rules in
    the module docstring). ``lease_bookings``: every booking of each such lease (the
    basis of its shares); ``gpus_of``: GPUs per node of those bookings; the documents:
    every stored invoice and credit note of their tenants. Invoices by period, then
    credit notes by creation."""
    tz_of = {i.id: i.period.tz for i in invoices}
    shares: list[BilledShare] = []
    for inv in sorted(invoices, key=lambda i: (i.period.start_s, i.id)):
        if not was_issued(inv):
            continue  # a draft billed nothing yet; a voided one never will (the month is billed again elsewhere)
        for line in inv.lines:
            if line.lease_id not in lease_bookings:
                continue
            found = _share(node, line, period(line.period, inv.period.tz), lease_bookings, gpus_of)
            if found is not None:
                state = inv.state.value
                shares.append(_billed(line, found, document=inv.id, credit_note=False, state=state, tenant=inv.tenant))
    for note in sorted(credit_notes, key=lambda n: (n.created_s, n.id)):
        tz = tz_of.get(note.invoice_id, DEFAULT_TZ)
        for line in note.lines:
            if line.lease_id not in lease_bookings:
                continue
            found = _share(node, line, period(line.period, tz), lease_bookings, gpus_of)
            if found is not None:
                shares.append(
                    _billed(line, found, document=note.id, credit_note=True, state="issued", tenant=note.tenant)
                )
    return tuple(shares)


def bills_of(shares: Iterable[BilledShare]) -> tuple[NodeBill, ...]:
    """Shares summed per lease and period, by period then lease. The sums are of amounts
    already rounded to the minor unit, so ``round_money`` changes no value here; it only
    writes a zero as ``0.00``."""
    sums: dict[tuple[str, str, str, str], list[Decimal]] = {}
    for s in shares:
        key = (s.period, s.lease_id, s.tenant, s.amount.currency)
        acc = sums.setdefault(key, [Decimal(0), Decimal(0)])
        credit = s.credit_note or s.kind is LineKind.SLA_CREDIT
        acc[1 if credit else 0] += -s.amount.amount if credit else s.amount.amount
    return tuple(
        NodeBill(
            lease,
            tenant,
            label,
            Money(round_money(billed, currency), currency),
            Money(round_money(credited, currency), currency),
        )
        for (label, lease, tenant, currency), (billed, credited) in sorted(sums.items())
    )


def _share(
    node: str, line: InvoiceLine, p: Period, lease_bookings: Mapping[str, Sequence[Booking]], gpus_of: Mapping[str, int]
) -> tuple[int, int] | None:
    """``(node GPU-s, basis GPU-s)`` of ``line``, or None when none of it is the node's."""
    bookings = lease_bookings.get(line.lease_id)
    if bookings is None or line.kind is LineKind.PREPAYMENT:
        return None
    if line.kind is LineKind.SLA_CREDIT:
        mine = sum(e.gpu_s for e in line.evidence if e.node == node)
        basis = sum(e.gpu_s for e in line.evidence)
    else:
        held = [(b, p.clip(b.start_s, b.end_s)) for b in bookings if b.kind is HolderKind.LEASE]
        mine = sum(gpus_of[b.node] * (c[1] - c[0]) for b, c in held if c is not None and b.node == node)
        basis = sum(gpus_of[b.node] * (c[1] - c[0]) for b, c in held if c is not None)
    return (mine, basis) if mine > 0 and basis > 0 else None


def _billed(
    line: InvoiceLine, share: tuple[int, int], *, document: str, credit_note: bool, state: str, tenant: str
) -> BilledShare:
    mine, basis = share
    sign = -1 if credit_note else 1
    currency = line.amount.currency
    exact = line.amount.amount * Decimal(mine) / Decimal(basis)
    amount = sign * round_money(exact, currency)
    return BilledShare(
        document=document,
        credit_note=credit_note,
        state=state,
        tenant=tenant,
        lease_id=line.lease_id,
        period=line.period,
        kind=line.kind,
        description=line.description,
        line_amount=line.amount,
        node_gpu_s=mine,
        basis_gpu_s=basis,
        amount=Money(amount if amount else abs(amount), currency),  # never -0.00
    )
