"""Keep or lease, sold to demand: what is leased is offered to a stream of lease requests.

``plan keep-vs-lease --demand DEMAND`` sells the leased part not to one tenant but to
the stream ``sim leases`` replays (docs/lease-demand.md): for each fraction, the
requests go through the real leasing engine (``sim.lease_demand.replay``) on a fleet of
the leased units alone (:func:`leased_fleet`), each lease priced by the price book at
its request's tier. The option's figures come from what was booked:

- **revenue**: the fees the book charged the booked leases (``sim leases``' revenue
  booked), over each lease's whole term, also past the replay's span;
- **NPV** at the deal analysis' WACC: each booked lease is a contract
  (``services.deals.lease_contracts``, the book's own conversion of a ledger lease),
  its monthly fees less its cash operating cost (``economics.deal.analyse``) discounted
  to the replay's origin from its start; less the capex of every leased GPU at the
  origin, as the one-tenant deal pays it (the hardware is the operator's whether it is
  sold or idle), so that the ways of selling compare;
- **margin**: the year from the origin, the booked fees in it (``economics.book``'s
  period revenue) against the TCO of every leased GPU for a year (idle ones too);
- **revenue at risk**: the booked leases' (all of an on-demand or spot lease's fees,
  which nothing obliges the tenant to keep paying);
- **concentration**: the top tenant's share of the booked backlog and the HHI over the
  booked tenants (the book read at the origin);
- **refused**: the requests the leased part could not place, and the least the book
  would have charged them (``sim.lease_demand.refused_price``); a request for a GPU
  model the part does not hold is refused at 0 (the study checks that the candidates
  hold every model the stream asks for: :func:`demand_problems`).

Fraction 0 offers nothing: no request is replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from neocloud.domain.demand import ANY_MODEL, DemandRequest
from neocloud.domain.fleet import Fleet, Site
from neocloud.domain.leases import Tier
from neocloud.domain.money import Money, round_money
from neocloud.economics.book import book
from neocloud.economics.contract import Contract
from neocloud.economics.deal import CostBasis, analyse, monthly_rate
from neocloud.economics.months import HOURS_PER_MONTH, HOURS_PER_YEAR
from neocloud.economics.pricebook import PriceBook, WholesaleCard
from neocloud.placement.snapshot import FleetSnapshot
from neocloud.services.deals import CostSource, lease_contracts
from neocloud.sim.lease_demand import ORIGIN_S, DemandRun, replay, summarize

YEAR_S = 365 * 86_400


@dataclass(frozen=True, slots=True)
class DemandOffer:
    """The stream offered to each fraction's leased part, and the book that prices it.
    ``horizon_s``: requests arriving from then on are not replayed (``None``: the span
    ends at the last arrival), as ``sim leases --days``."""

    requests: tuple[DemandRequest, ...]
    book: PriceBook
    horizon_s: int | None = None


@dataclass(frozen=True, slots=True)
class DemandSale:
    """What one fraction's leased part booked from the stream (module doc)."""

    requests: int
    accepted: int
    lessees: int  # tenants with a booked lease
    total_revenue: Decimal
    annual_revenue: Decimal
    annual_tco: Decimal
    npv: Decimal
    capex: Decimal
    revenue_at_risk: Decimal
    revenue_refused: Decimal
    top1_share: float
    hhi: float
    contracts: tuple[Contract, ...] = field(default=())
    run: DemandRun | None = None

    @property
    def refused(self) -> int:
        return self.requests - self.accepted


def sell_to_demand(
    fleet: Fleet,
    snap: FleetSnapshot,
    leased_units: Sequence[str],
    offer: DemandOffer,
    costs: CostSource,
    *,
    wacc: Decimal | None = None,
    book_contracts: Sequence[Contract] = (),
) -> DemandSale:
    """The stream replayed on the units ``leased_units`` of ``fleet`` (module doc);
    ``wacc``: ``None`` takes the cost model's."""
    nodes = leased_node_ids(snap, leased_units)
    zero = Decimal(0)
    if not nodes:
        return DemandSale(0, 0, 0, zero, zero, zero, zero, zero, zero, zero, 0.0, 0.0)
    part = leased_fleet(fleet, nodes)
    run = replay(part, offer.requests, offer.book, horizon_s=offer.horizon_s, refuse_absent_models=True)
    booked = [o for o in run.outcomes if o.accepted and o.lease is not None]
    cards = _wholesale_cards(offer.book, [o.lease.model for o in booked if o.lease is not None])
    leases = [o.lease for o in booked if o.lease is not None]
    wholesale = {le.id: cards[le.model] for le in leases if le.request.tier is Tier.WHOLESALE and le.model in cards}
    contracts = lease_contracts(leases, fleet, [b for o in booked for b in o.bookings], wholesale)
    bases = _Bases(fleet, costs)
    capex, annual_tco, chosen = _capacity(part, bases, wacc)
    pv = sum((_present_value(c, bases, chosen) for c in contracts), zero)
    summary = summarize(run)
    period = (ORIGIN_S, ORIGIN_S + YEAR_S)
    own = book(contracts, ORIGIN_S, period) if contracts else None
    joined = book([*book_contracts, *contracts], ORIGIN_S, period) if contracts else None
    return DemandSale(
        requests=summary.requests,
        accepted=summary.accepted,
        lessees=len({c.tenant for c in contracts}),
        total_revenue=summary.revenue_booked,
        annual_revenue=own.revenue if own else zero,
        annual_tco=annual_tco,
        npv=round_money(pv - capex, offer.book.cards.currency),
        capex=capex,
        revenue_at_risk=own.revenue_at_risk if own else zero,
        revenue_refused=summary.revenue_refused,
        top1_share=joined.top1_backlog_share if joined else 0.0,
        hhi=joined.hhi if joined else 0.0,
        contracts=tuple(contracts),
        run=run,
    )


def demand_problems(offer: DemandOffer, snap: FleetSnapshot, candidate_nodes: Sequence[int]) -> list[str]:
    """A request for a GPU model no candidate holds is bad input (as ``sim leases``
    refuses a model its fleet lacks), named by the request's id."""
    have = sorted({snap.models[int(snap.node_model[n])] for n in candidate_nodes})
    for r in offer.requests:
        for model in r.shape.models:
            if model != ANY_MODEL and model not in have:
                where = f"no {model!r} GPUs among the candidates; they have {', '.join(have)}"
                return [f"demand: request {r.id}: model: {where}"]
    return []


def leased_node_ids(snap: FleetSnapshot, names: Sequence[str]) -> list[str]:
    """The ids of the nodes of the units named (sites, pods or fabric blocks)."""
    wanted = set(names)
    for level_names, unit_of in (
        (snap.site_names, snap.node_site),
        (snap.pod_names, snap.node_pod),
        (snap.block_names, snap.node_block),
    ):
        hit = {k for k, n in enumerate(level_names) if n in wanted}
        if hit:
            return [snap.node_ids[i] for i, unit in enumerate(unit_of.tolist()) if unit in hit]
    return []


def leased_fleet(fleet: Fleet, node_ids: Sequence[str]) -> Fleet:
    """``fleet`` restricted to the nodes ``node_ids``: those nodes (fleet order, as they
    are) and the sites, pods, blocks and racks that hold any of them."""
    keep = set(node_ids)
    nodes = [n for n in fleet.nodes if n.id in keep]
    sites = {n.site for n in nodes}
    pods = {n.pod for n in nodes}
    blocks = {n.block for n in nodes}
    racks = {n.rack for n in nodes}
    return replace(
        fleet,
        sites=[s for s in fleet.sites if s.name in sites],
        pods=[p for p in fleet.pods if p.name in pods],
        blocks=[b for b in fleet.blocks if b.name in blocks],
        racks=[r for r in fleet.racks if r.name in racks],
        nodes=nodes,
    )


class _Bases:
    """The cost basis of each (site, models), asked once."""

    def __init__(self, fleet: Fleet, costs: CostSource) -> None:
        self.fleet = fleet
        self.costs = costs
        self.sites = {s.name: s for s in fleet.sites}
        self.cache: dict[tuple[str, tuple[str, ...]], CostBasis] = {}

    def of(self, site: str, models: Sequence[str]) -> CostBasis:
        key = (site, tuple(sorted(set(models))))
        if key not in self.cache:
            self.cache[key] = self.costs(self.fleet, self._site(site), key[1])
        return self.cache[key]

    def _site(self, name: str) -> Site:
        return self.sites[name]


def _wholesale_cards(book_: PriceBook, models: Sequence[str]) -> dict[str, WholesaleCard]:
    """The book's wholesale card of each model named (case as the lease spells it)."""
    by_name = {c.model.casefold(): c for c in book_.cards.wholesale}
    return {m: by_name[m.casefold()] for m in set(models) if m.casefold() in by_name}


def _capacity(part: Fleet, bases: _Bases, wacc: Decimal | None) -> tuple[Decimal, Decimal, Decimal]:
    """The leased GPUs' capex (paid at the origin), their TCO for a year, and the WACC:
    ``wacc``, or the cost model's (the highest of the sites', as a deal's cost basis)."""
    gpus: dict[tuple[str, str], int] = {}
    for n in part.nodes:
        gpus[(n.site, n.gpu_model)] = gpus.get((n.site, n.gpu_model), 0) + n.gpu_count
    capex = annual = Decimal(0)
    annual_wacc = None
    for (site, model), count in sorted(gpus.items()):
        basis = bases.of(site, [m for s, m in gpus if s == site])
        currency = basis.capex_per_gpu[model].currency
        capex += round_money(basis.capex_per_gpu[model].amount * count, currency)
        annual += round_money(basis.tco_per_gpu_hour[model].amount * count * HOURS_PER_YEAR, currency)
        annual_wacc = basis.wacc if annual_wacc is None else max(annual_wacc, basis.wacc)
    chosen = wacc if wacc is not None else annual_wacc or Decimal(0)
    return capex, annual, chosen


def _present_value(contract: Contract, bases: _Bases, wacc: Decimal) -> Decimal:
    """A booked lease's fees less its cash operating cost, discounted to the origin: the
    deal analysis' NPV at its start without its capex (the capacity's, counted once),
    moved back by the months from the origin to its start."""
    basis = bases.of(contract.site.split("+")[0], list(contract.gpus_by_model()))
    no_capex = replace(basis, capex_per_gpu={m: Money(Decimal(0), p.currency) for m, p in basis.capex_per_gpu.items()})
    at_start = analyse(contract, no_capex, wacc=wacc, market=()).npv
    months = float(Decimal(contract.start_s - ORIGIN_S) / 3600 / HOURS_PER_MONTH)
    return at_start / Decimal(repr((1 + monthly_rate(wacc)) ** months))
