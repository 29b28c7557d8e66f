"""Billing's invariants as Hypothesis properties (issue 11, section 6):

- rated GPU-seconds equal the contract clipped to the period;
- delivered never exceeds contracted (and the evidence sums to the shortfall);
- credits never exceed the cap;
- invoice lines sum to the total, which is what the leases rated plus debits less prepayment;
- re-running a period changes nothing;
- for any order in which health events and amendments arrive (late ones after a period
  closed included), invoices minus credit notes equal the usage rated on the final history.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.billing.invoicing import RatedLease, invoice_run, rate_lease
from neocloud.billing.metering import Usage, meter
from neocloud.billing.rating import signed_price
from neocloud.billing.sla import credit_share, sla_credit, terms_of
from neocloud.domain.billing import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceState,
    LineKind,
    Period,
    change_invoice_state,
    period,
)
from neocloud.domain.credits import MAX_CREDIT_TIERS, CreditTier, credit_problems
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest, Segment, Tier
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.shape import Shape
from neocloud.economics.pricebook import PriceBook, RampStep, RateCards, WholesaleCard
from neocloud.leasing.delivered import delivered_series
from tests.billing_builders import DAY, HOUR, a_lease, at, history

T0 = at(2026, 12, 15)  # histories live in [T0, T0 + 130 days): December to April
SPAN = 130 * DAY
LABELS = ("2027-01", "2027-02", "2027-03")
ZONES = ("UTC", "America/Chicago", "Asia/Kolkata")
BOOK = PriceBook(
    1,
    0,
    RateCards(
        wholesale=(
            WholesaleCard(
                "H100",
                monthly_fee=Money(Decimal("1250000")),
                unit_gpus=96,
                ramp=(RampStep(1, Decimal("0.5")), RampStep(2, Decimal("0.5"))),
            ),
        )
    ),
)

instants = st.integers(T0, T0 + SPAN)
Log = tuple[tuple[str, int, Health], ...]
Case = tuple[Lease, tuple[Booking, ...], Log, tuple[tuple[int, int], ...]]


@st.composite
def contracts(draw: st.DrawFn) -> tuple[Segment, ...]:
    """Contiguous segments (a start, steps, an end) of 1 to 24 GPUs."""
    cuts = sorted(draw(st.sets(instants, min_size=2, max_size=5)))
    return tuple(Segment(s, e, draw(st.integers(1, 24))) for s, e in itertools.pairwise(cuts))


@st.composite
def health_logs(draw: st.DrawFn, nodes: Sequence[str]) -> tuple[tuple[str, int, Health], ...]:
    records = draw(
        st.lists(st.tuples(st.sampled_from(list(nodes)), instants, st.sampled_from(list(Health))), max_size=12)
    )
    return tuple(records)


@given(contract=contracts(), label=st.sampled_from(LABELS), tz=st.sampled_from(ZONES))
def test_rated_gpu_seconds_equal_the_contract_clipped_to_the_period(
    contract: tuple[Segment, ...], label: str, tz: str
) -> None:
    lease = replace(a_lease(((0, 1, 1),)), contract=contract)
    p = period(label, tz)
    booked = (Booking(1, "n000", T0, T0 + SPAN, HolderKind.LEASE, lease.id),)
    usage = meter(history(lease, booked), p)
    clipped = 0
    for s in contract:
        span = p.clip(s.start_s, s.end_s)
        clipped += s.gpus * (span[1] - span[0]) if span else 0
    assert usage.contracted_gpu_s == clipped
    rated = rate_lease(history(lease, booked), p, signed_price(lease, ()))
    assert rated.charge.gpu_s == clipped


@given(contract=contracts(), tz=st.sampled_from(ZONES))
def test_periods_tiling_a_contract_rate_all_of_it_once(contract: tuple[Segment, ...], tz: str) -> None:
    lease = replace(a_lease(((0, 1, 1),)), contract=contract)
    total = sum(
        meter(history(lease, ()), period(label, tz)).contracted_gpu_s
        for label in ("2026-12", "2027-01", "2027-02", "2027-03", "2027-04")
    )
    assert total == sum(s.gpus * (s.end_s - s.start_s) for s in contract)


@st.composite
def lease_histories(
    draw: st.DrawFn,
) -> tuple[Lease, tuple[Booking, ...], tuple[tuple[str, int, Health], ...], tuple[tuple[int, int], ...]]:
    contract = draw(contracts())
    lease = replace(a_lease(((0, 1, 1),)), contract=contract)
    nodes = [f"n{k}" for k in range(draw(st.integers(1, 4)))]
    booked = []
    for k, node in enumerate(nodes):
        s, e = sorted((draw(instants), draw(instants)))
        kind = draw(st.sampled_from([HolderKind.LEASE, HolderKind.LEASE, HolderKind.SPARE]))
        booked.append(Booking(k, node, s, e, kind, lease.id))
    log = draw(health_logs(nodes))
    windows = tuple(tuple(sorted((draw(instants), draw(instants)))) for _ in range(draw(st.integers(0, 2))))
    return lease, tuple(booked), log, windows  # type: ignore[return-value]


@given(case=lease_histories(), label=st.sampled_from(LABELS))
def test_delivered_never_exceeds_contracted_and_the_evidence_is_the_shortfall(
    case: Case,
    label: str,
) -> None:
    lease, booked, log, windows = case
    usage = meter(history(lease, booked, log, windows), period(label))
    assert 0 <= usage.delivered_gpu_s <= usage.contracted_gpu_s
    assert 0 <= usage.available_gpu_s <= usage.delivered_gpu_s
    assert 0 <= usage.excluded_gpu_s <= usage.contracted_gpu_s
    assert sum(e.gpu_s for e in usage.missing) == usage.shortfall_gpu_s
    assert all(e.gpus > 0 and e.start_s < e.end_s for e in usage.missing)


@given(case=lease_histories(), label=st.sampled_from(LABELS))
def test_metering_and_the_lease_pages_delivered_series_agree(
    case: Case,
    label: str,
) -> None:
    lease, booked, log, _ = case
    p = period(label)
    ordered = tuple(sorted(log, key=lambda r: r[1]))
    usage = meter(history(lease, booked, ordered), p)
    points = delivered_series(lease, booked, {b.node: 8 for b in booked}, ordered)
    delivered = 0
    for point, nxt in zip(points, [*points[1:], None], strict=True):
        span = p.clip(point.t_s, nxt.t_s if nxt else lease.end_s)
        if span:
            delivered += min(point.delivered, point.contracted) * (span[1] - span[0])
    assert usage.delivered_gpu_s == delivered


shares = st.decimals(Decimal("0.01"), Decimal("1"), places=2)


@st.composite
def stated_terms(draw: st.DrawFn) -> LeaseRequest:
    """A lease request stating random valid SLA credit tiers and a cap: thresholds at
    most the target and strictly decreasing, shares never decreasing."""
    target = draw(st.decimals(Decimal("50"), Decimal("100"), places=3))
    n = draw(st.integers(1, MAX_CREDIT_TIERS))
    belows = draw(st.lists(st.decimals(Decimal("1"), target, places=3), min_size=n, max_size=n, unique=True))
    tier_shares = sorted(draw(st.lists(shares, min_size=n, max_size=n)))
    tiers = tuple(CreditTier(b, s) for b, s in zip(sorted(belows, reverse=True), tier_shares, strict=True))
    request = LeaseRequest("t", Shape(("H100",), gpus=8), 0, 1, None, target)
    request = replace(request, sla_credit_tiers=tiers, sla_credit_cap=draw(shares))
    assert credit_problems(target, tiers, request.sla_credit_cap) == []  # a contract the rules accept
    return request


@given(
    request=stated_terms(),
    shortfall=st.integers(0, 10**6),
    fee=st.decimals(Decimal("0.01"), Decimal("10000000000"), places=2),
)
def test_no_credit_exceeds_the_cap(request: LeaseRequest, shortfall: int, fee: Decimal) -> None:
    usage = Usage("L-1", "t", Tier.WHOLESALE, period("2027-01"), 10**6, 10**6 - shortfall, 0, shortfall)
    charge = InvoiceLine(LineKind.CHARGE, "L-1", "2027-01", "fee", 10**6, Money(fee))
    terms = terms_of(request)  # the lease's own tiers and cap, as rating takes them
    line = sla_credit(usage, charge, terms)
    cap = request.sla_credit_cap
    if line is not None:
        assert line.amount.amount < 0
        assert -line.amount.amount <= (fee * cap).quantize(Decimal("0.01"))
        assert -line.amount.amount <= fee
    reached = [t.share for t in request.sla_credit_tiers if Decimal(usage.available_gpu_s * 100) < t.below_pct * 10**6]
    assert credit_share(usage, terms) == min(max(reached, default=Decimal(0)), cap)


# -- the invoice run over a replayed history -------------------------------------------
@dataclass(frozen=True)
class Arrival:
    """One thing the system learns at ``arrives_s``: a health record of a node, or an
    amendment: a new end of the contract at ``at_s``, fewer GPUs from ``at_s``, a swap
    of a node for a fresh one from ``at_s``, or a one-day maintenance window from ``at_s``."""

    arrives_s: int
    lease: int
    at_s: int
    kind: str  # health | end | shrink | swap | window
    health: Health = Health.HEALTHY
    node: int = 0
    gpus: int = 0


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[tuple[str, Lease, int]], list[Arrival]]:
    leases = []
    for k in range(draw(st.integers(1, 3))):
        tier = draw(st.sampled_from([Tier.RESERVED, Tier.ON_DEMAND, Tier.WHOLESALE]))
        s = draw(st.integers(T0, at(2027, 2, 15)))
        e = draw(st.integers(s + DAY, T0 + SPAN))
        nodes = draw(st.integers(1, 3))
        gpus = draw(st.integers(1, 8 * nodes))
        lease = a_lease(
            ((s, e, gpus),),
            lease_id=f"L{k}",
            tenant=draw(st.sampled_from(["acme", "bravo"])),
            tier=tier,
            price=draw(st.sampled_from(["2.00", "3.99", "1.4109"])),
            version=1 if tier is Tier.WHOLESALE else None,
            sla=draw(st.sampled_from(["99.0", "99.9"])),
        )
        leases.append((f"L{k}", lease, nodes))
    arrivals = []
    for _ in range(draw(st.integers(0, 20))):
        k = draw(st.integers(0, len(leases) - 1))
        t = draw(instants)
        late = draw(st.sampled_from([0, HOUR, 5 * DAY, 40 * DAY, 80 * DAY]))
        kind = draw(st.sampled_from(["health"] * 4 + ["end", "shrink", "swap", "window"]))
        health = draw(st.sampled_from([Health.FAILED, Health.HEALTHY, Health.MAINTENANCE, Health.DEGRADED]))
        node = draw(st.integers(0, leases[k][2] - 1))
        arrivals.append(Arrival(t + late, k, t, kind, health, node, draw(st.integers(1, 8))))
    return leases, arrivals


World = list[tuple[Lease, tuple[Booking, ...], Log, tuple[tuple[int, int], ...]]]


def _known_history(leases: list[tuple[str, Lease, int]], arrivals: list[Arrival], now_s: int) -> World:
    out: World = []
    known = sorted((a for a in arrivals if a.arrives_s <= now_s), key=lambda a: a.arrives_s)
    for k, (name, lease, nodes) in enumerate(leases):
        mine = [a for a in known if a.lease == k]
        contract = lease.contract
        for a in (a for a in mine if a.kind in ("end", "shrink")):
            contract = _amend(contract, a)
        booked = [Booking(j, f"{name}n{j}", T0, T0 + 2 * SPAN, HolderKind.LEASE, name) for j in range(nodes)]
        for a in (a for a in mine if a.kind == "swap"):
            booked = _swap(booked, a, name)
        log = tuple((b.node, a.at_s, a.health) for a in mine if a.kind == "health" for b in booked[a.node : a.node + 1])
        windows = tuple((a.at_s, a.at_s + DAY) for a in mine if a.kind == "window")
        out.append((replace(lease, contract=contract), tuple(booked), log, windows))
    return out


def _swap(booked: list[Booking], a: Arrival, name: str) -> list[Booking]:
    """Node slot ``a.node`` moves to a fresh node from ``a.at_s``: its booking there is
    truncated (kept with its past), the fresh one booked to the end."""
    live = [k for k, b in enumerate(booked) if b.start_s <= a.at_s < b.end_s and b.node.startswith(f"{name}n")]
    if a.node >= len(live):
        return booked
    old = booked[live[a.node]]
    fresh = Booking(len(booked), f"{name}s{len(booked)}", a.at_s, old.end_s, HolderKind.LEASE, name)
    booked[live[a.node]] = replace(old, end_s=a.at_s)
    return [*booked, fresh]


def _amend(contract: tuple[Segment, ...], a: Arrival) -> tuple[Segment, ...]:
    if not contract:
        return contract
    if a.kind == "end":  # terminate early or extend: the contract now ends at at_s
        start = contract[0].start_s
        if a.at_s <= start:
            return contract
        cut = tuple(replace(s, end_s=min(s.end_s, a.at_s)) for s in contract if s.start_s < a.at_s)
        return (*cut[:-1], replace(cut[-1], end_s=a.at_s))
    out = []  # shrink: at most a.gpus from at_s on
    for s in contract:
        if s.end_s <= a.at_s or s.gpus <= a.gpus:
            out.append(s)
        elif s.start_s >= a.at_s:
            out.append(replace(s, gpus=a.gpus))
        else:
            out += [replace(s, end_s=a.at_s), replace(s, start_s=a.at_s, gpus=a.gpus)]
    return tuple(out)


def _rate_all(world: World, labels: Sequence[str]) -> list[RatedLease]:
    out = []
    for lease, booked, log, windows in world:
        price = signed_price(lease, [BOOK])
        for label in labels:
            out.append(rate_lease(history(lease, booked, log, windows), period(label), price))
    return out


def _issue(invoices: Sequence[Invoice], at_s: int) -> list[Invoice]:
    return [change_invoice_state(i, InvoiceState.ISSUED, at_s=at_s, actor="run", reason="closed") for i in invoices]


def _usage_sum(invoices: Sequence[Invoice], notes: Sequence[CreditNote]) -> Decimal:
    billed = sum(
        (ln.amount.amount for i in invoices for ln in i.lines if ln.kind is not LineKind.PREPAYMENT), Decimal(0)
    )
    return billed - sum((n.total.amount for n in notes), Decimal(0))


@settings(max_examples=150, deadline=None)
@given(world=worlds(), prepaid=st.sampled_from([None, "5000.00", "1000000000.00"]))
def test_invoices_minus_credit_notes_equal_the_final_history_rated_whatever_the_arrival_order(
    world: tuple[list[tuple[str, Lease, int]], list[Arrival]], prepaid: str | None
) -> None:
    leases, arrivals = world
    deposits = {"acme": Money(Decimal(prepaid))} if prepaid else {}
    invoices: list[Invoice] = []
    notes: list[CreditNote] = []
    labels = [*LABELS, "2027-04"]
    for k, label in enumerate(labels):
        p = period(label)
        known = _known_history(leases, arrivals, p.end_s if k < len(LABELS) else 2**40)
        rated = _rate_all(known, labels[: k + 1])
        run = invoice_run(p, rated, invoices=invoices, credit_notes=notes, prepaid=deposits, created_s=p.end_s)
        _check_invoices(run.invoices, rated, p)
        shuffled = list(reversed(rated))  # the same inputs in another order: the same documents
        same = invoice_run(p, shuffled, invoices=invoices, credit_notes=notes, prepaid=deposits, created_s=p.end_s)
        assert same == run
        invoices += _issue(run.invoices, p.end_s)
        notes += run.credit_notes
        again = invoice_run(p, rated, invoices=invoices, credit_notes=notes, prepaid=deposits, created_s=p.end_s + 1)
        assert again.empty  # re-running a period changes nothing
        assert again.pending == run.pending
    final = _rate_all(_known_history(leases, arrivals, 2**40), labels)
    assert _usage_sum(invoices, notes) == sum((r.net for r in final), Decimal(0))
    for lease_id in {r.lease_id for r in final}:  # and lease by lease
        billed = _usage_sum(_only(invoices, lease_id), _only(notes, lease_id))
        assert billed == sum((r.net for r in final if r.lease_id == lease_id), Decimal(0))
    for i in invoices:  # no prepayment drawn beyond what was paid in
        drawn = -sum((ln.amount.amount for ln in i.lines if ln.kind is LineKind.PREPAYMENT), Decimal(0))
        assert drawn >= 0
    if prepaid:
        assert sum(
            (-ln.amount.amount for i in invoices for ln in i.lines if ln.kind is LineKind.PREPAYMENT), Decimal(0)
        ) <= Decimal(prepaid)


D = TypeVar("D", Invoice, CreditNote)


def _only(documents: Sequence[D], lease_id: str) -> list[D]:
    """The documents with only their lines for ``lease_id``."""
    return [replace(d, lines=tuple(ln for ln in d.lines if ln.lease_id == lease_id)) for d in documents]


def _check_invoices(drafts: Sequence[Invoice], rated: Sequence[RatedLease], p: Period) -> None:
    """Each draft's lines sum to its total, which is its leases' rated net for ``p``,
    plus debits for earlier periods, less the prepayment drawn (never more than due)."""
    for invoice in drafts:
        assert invoice.total.amount == sum((ln.amount.amount for ln in invoice.lines), Decimal(0))
        assert all(ln.amount.amount == ln.amount.amount.quantize(Decimal("0.01")) for ln in invoice.lines)
        own = sum((r.net for r in rated if r.tenant == invoice.tenant and r.period == p.label), Decimal(0))
        debits = sum((ln.amount.amount for ln in invoice.lines if ln.kind is LineKind.ADJUSTMENT), Decimal(0))
        drawn = sum((ln.amount.amount for ln in invoice.lines if ln.kind is LineKind.PREPAYMENT), Decimal(0))
        assert invoice.total.amount == own + debits + drawn
        assert drawn <= 0
        assert -drawn <= max(own + debits, Decimal(0))


@settings(max_examples=100, deadline=None)
@given(
    world=worlds(), prepaid=st.sampled_from(["5000.00", "1000000000.00"]), waits=st.sets(st.sampled_from(LABELS[:2]))
)
def test_drafts_left_waiting_a_month_keep_the_sum_and_draw_no_prepayment_twice(
    world: tuple[list[tuple[str, Lease, int]], list[Arrival]], prepaid: str, waits: set[str]
) -> None:
    """As above, but the invoices of the months in ``waits`` stay drafts through the next
    month's run and are issued after it, as they were drafted (an operator reviewing)."""
    leases, arrivals = world
    deposits = {"acme": Money(Decimal(prepaid))}
    invoices: list[Invoice] = []
    notes: list[CreditNote] = []
    labels = [*LABELS, "2027-04"]
    waiting: list[Invoice] = []
    for k, label in enumerate(labels):
        p = period(label)
        known = _known_history(leases, arrivals, p.end_s if k < len(LABELS) else 2**40)
        run = invoice_run(
            p,
            _rate_all(known, labels[: k + 1]),
            invoices=invoices,
            credit_notes=notes,
            prepaid=deposits,
            created_s=p.end_s,
        )
        notes += run.credit_notes
        sent = _issue(waiting, p.end_s)  # last month's drafts, sent after this run
        invoices = [i for i in invoices if i not in waiting] + sent
        waiting = list(run.invoices) if label in waits else []
        invoices += waiting if waiting else _issue(run.invoices, p.end_s)
    final = _rate_all(_known_history(leases, arrivals, 2**40), labels)
    assert _usage_sum(invoices, notes) == sum((r.net for r in final), Decimal(0))
    drawn = sum((-ln.amount.amount for i in invoices for ln in i.lines if ln.kind is LineKind.PREPAYMENT), Decimal(0))
    assert drawn <= Decimal(prepaid)
