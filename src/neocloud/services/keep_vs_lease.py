"""Keep or lease: the operator's decision, from the simulator, the cost model and the deal analysis.

For each fraction of the candidate capacity leased (docs/keep-vs-lease.md):

1. the internal workload is replayed on what stays (``sim.keep_vs_lease.replay_kept``:
   the scheduler the live queues run, the leased nodes out for the whole run);
2. what is leased is priced and costed as a deal per site it spans
   (``services.deals.analyse_deal``: the contract's fees at the stated price, the cost
   model's TCO, NPV at the WACC, the earliest exit and the revenue at risk);
3. the lease book (the deals, and any contracts the operator already has) gives the
   concentration: the top tenant's share of the backlog and the HHI.

The recommendation is the fraction with the highest NPV among those whose internal
work all finishes with a mean delay within ``max_delay_s``; keeping everything
(fraction 0, NPV 0) is the fallback. The delay is a job's JCT less its run time: the
time it was not making progress, waiting to start or preempted (``sim.metrics``). The
wait until a job first starts is not the bound: under 2D-LAS nearly every job starts
at once and then waits preempted, so a bound on it passed every fraction of the seed
study while the internal JCT grew 6.3x (docs/keep-vs-lease.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.leases import Tier
from neocloud.domain.money import Money
from neocloud.domain.workload import TraceJob
from neocloud.economics.book import book
from neocloud.economics.contract import Contract
from neocloud.economics.pricebook import PriceBook
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.snapshot import FleetSnapshot
from neocloud.scheduling.cluster import DEFAULT_RESTART_S
from neocloud.scheduling.policies import POLICIES
from neocloud.services.deals import CostSource, DealReport, DealTerms, analyse_deal
from neocloud.services.keep_vs_lease_demand import DemandOffer, DemandSale, demand_problems, sell_to_demand
from neocloud.services.keep_vs_lease_tier import tier_deals, tier_problems
from neocloud.sim.keep_vs_lease import Kept, Replay, Unit, leased_nodes, run_replay
from neocloud.sim.workload import Window

YEAR_S = 365 * 86_400
#: Replays the fractions' internal work: given the replays (fractions ascending), their
#: results in the same order, calling ``done`` with the count finished as each ends.
#: The default replays them one after the other here; the CLI maps them over local
#: processes or Ray tasks (``cli.sweep_executors``).
ReplayMap = Callable[[Sequence[Replay], Callable[[int], None] | None], Sequence[Kept]]
#: The recommendation's bound on the internal work's mean delay (JCT less run time):
#: 4 hours [D: our default; a team's job held back half a working day on average is
#: the point where an operator would rather keep the capacity]. ``--max-delay-hours``.
DEFAULT_MAX_DELAY_S = 4 * 3600.0


@dataclass(frozen=True, slots=True)
class LeaseTerms:
    """How the leased capacity is sold: to one tenant over ``[start_s, end_s)``, at a
    price per GPU-hour or at ``monthly_fee`` for all the candidates (a part pays its
    share of the candidates' GPUs: pro rata), or at ``tier``'s card in ``book`` for each
    GPU model (``services.keep_vs_lease_tier``), with the deal analysis' other terms;
    or, with ``demand``, to a stream of lease requests priced by the book per request's
    tier (``services.keep_vs_lease_demand``; the tenant and term are then the requests')."""

    tenant: str
    start_s: int
    end_s: int
    price_per_gpu_hour: Money | None = None
    monthly_fee: Money | None = None
    ramp: tuple[Decimal, ...] = ()
    notice_days: int | None = None
    initial_months: int = 0
    wacc: Decimal | None = None
    tier: Tier | None = None
    book: PriceBook | None = None
    demand: DemandOffer | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One fraction: the internal work on what stays and the economics of what is leased."""

    kept: Kept
    deals: tuple[DealReport, ...]  # one per site the lease spans
    unfinished: int  # internal jobs that never finished (no room for them on what stays)
    total_revenue: Decimal
    annual_revenue: Decimal
    annual_tco: Decimal
    npv: Decimal
    revenue_at_risk: Decimal
    top1_share: float  # of the lease book's backlog
    hhi: float
    demand: DemandSale | None = None  # sold to a stream of requests: what it booked and refused

    @property
    def fraction(self) -> float:
        return self.kept.fraction

    @property
    def gross_margin(self) -> float:
        return float((self.annual_revenue - self.annual_tco) / self.annual_revenue) if self.annual_revenue else 0.0


@dataclass(frozen=True, slots=True)
class Study:
    options: tuple[Option, ...]
    recommended: float
    reason: str
    max_delay_s: float
    currency: str
    notes: tuple[str, ...] = field(default=())


def study(
    fleet: Fleet,
    snap: FleetSnapshot,
    trace: Callable[[], Iterable[TraceJob]],
    *,
    units: Sequence[Unit],
    fractions: Sequence[float],
    terms: LeaseTerms,
    costs: CostSource,
    policy: str = "las",
    placement: JobPlacement = JobPlacement.COUNT,
    scale: float,
    load: float = 1.0,
    window: Window | None = None,
    restart_s: float = DEFAULT_RESTART_S,
    max_delay_s: float = DEFAULT_MAX_DELAY_S,
    book_contracts: Sequence[Contract] = (),
    progress: Callable[[int], None] | None = None,
    replays: ReplayMap | None = None,
) -> Study:
    """The study of ``fractions`` (module doc); ``trace`` opens the internal workload
    afresh for each replay here (``replays`` may run them elsewhere, each reading the
    workload itself); ``progress`` is called with the count of fractions replayed.
    Raises :class:`RequestError` naming a bad field."""
    problems = []
    if policy not in POLICIES:
        problems.append(f"policy: {policy!r} is not one of {', '.join(POLICIES)}")
    if not fractions or any(not 0 <= f <= 1 for f in fractions) or len(set(fractions)) != len(fractions):
        problems.append(f"fractions: {list(fractions)} are not distinct shares from 0 to 1")
    if not max_delay_s > 0:
        problems.append(f"max_delay_s: {max_delay_s} is not above 0")
    problems += _selling_problems(terms, snap, units)
    if problems:
        raise RequestError(problems)
    plan = [Replay(f, tuple(units), policy, placement, scale, load, window, restart_s) for f in sorted(fractions)]
    try:
        for f in fractions:  # a fraction no replay can take fails now, not after the others' replays
            leased_nodes(snap, units, f)
        kept_all = (replays or _here(snap, trace))(plan, progress)
    except ValueError as exc:
        raise RequestError([str(exc)]) from exc
    share = _Share(terms, sum(u.gpus for u in units))
    options = [_option(fleet, snap, kept, terms=share, costs=costs, book_contracts=book_contracts) for kept in kept_all]
    best, reason = recommend(options, max_delay_s)
    return Study(tuple(options), best, reason, max_delay_s, _currency(terms))


def recommend(options: Sequence[Option], max_delay_s: float) -> tuple[float, str]:
    """The fraction to lease and why (module doc)."""
    fit = [o for o in options if o.unfinished == 0 and o.kept.summary.delay_mean_s <= max_delay_s]
    leased = [o for o in fit if o.fraction > 0]
    hours = max_delay_s / 3600
    if not leased:
        return 0.0, (
            f"keep everything: no fraction leased keeps the internal work's mean delay within {hours:g} h"
            " with every job finished"
        )
    best = max(leased, key=lambda o: (o.npv, -o.fraction))
    if best.npv <= 0:
        return 0.0, "keep everything: no fraction leased within the delay bound has a positive NPV"
    return best.fraction, (
        f"lease {best.fraction:.0%}: the highest NPV among the fractions that keep the internal work's mean"
        f" delay within {hours:g} h ({best.kept.summary.delay_mean_s / 3600:.2f} h)"
    )


def _here(snap: FleetSnapshot, trace: Callable[[], Iterable[TraceJob]]) -> ReplayMap:
    """The replays one after the other in this process."""

    def run(plan: Sequence[Replay], done: Callable[[int], None] | None) -> list[Kept]:
        out = []
        for replay in plan:
            out.append(run_replay(replay, snap, trace()))
            if done is not None:
                done(len(out))
        return out

    return run


@dataclass(frozen=True, slots=True)
class _Share:
    """The terms and the candidates' GPUs, for a part's share of a monthly fee."""

    terms: LeaseTerms
    candidate_gpus: int


def _option(
    fleet: Fleet,
    snap: FleetSnapshot,
    kept: Kept,
    *,
    terms: _Share,
    costs: CostSource,
    book_contracts: Sequence[Contract],
) -> Option:
    s = kept.summary
    unfinished = s.jobs - s.finished - s.rejected
    if terms.terms.demand is not None:
        return _demand_option(fleet, snap, kept, unfinished, terms=terms.terms, costs=costs, contracts=book_contracts)
    deals = tuple(d for site, gpus in _by_site(snap, kept).items() for d in _deals(fleet, site, gpus, terms, costs))
    zero = Decimal(0)
    contracts = [*book_contracts, *(d.analysis.contract for d in deals)]
    start = terms.terms.start_s
    lease_book = book(contracts, start, (start, start + YEAR_S)) if contracts else None
    return Option(
        kept,
        deals,
        unfinished,
        sum((d.analysis.total_revenue for d in deals), zero),
        sum((d.analysis.annual_revenue for d in deals), zero),
        sum((d.analysis.annual_tco for d in deals), zero),
        sum((d.analysis.npv for d in deals), zero),
        sum((d.analysis.revenue_at_risk for d in deals), zero),
        lease_book.top1_backlog_share if lease_book else 0.0,
        lease_book.hhi if lease_book else 0.0,
    )


def _by_site(snap: FleetSnapshot, kept: Kept) -> dict[str, dict[str, int]]:
    """The leased GPUs per site and model (units in the order they were leased)."""
    out: dict[str, dict[str, int]] = {}
    names = set(kept.leased_units)
    for level_names, unit_of in (
        (snap.site_names, snap.node_site),
        (snap.pod_names, snap.node_pod),
        (snap.block_names, snap.node_block),
    ):
        hit = [k for k, n in enumerate(level_names) if n in names]
        if not hit:
            continue
        for node, unit in enumerate(unit_of.tolist()):
            if unit in hit:
                site = snap.site_names[int(snap.node_site[node])]
                model = snap.models[int(snap.node_model[node])]
                per = out.setdefault(site, {})
                per[model] = per.get(model, 0) + int(snap.node_gpus[node])
        break
    return out


def _deals(fleet: Fleet, site: str, gpus: dict[str, int], share: _Share, costs: CostSource) -> tuple[DealReport, ...]:
    """The leased part of ``site`` as deals: one, or at a tier one per GPU model."""
    terms = share.terms
    fee = None
    if terms.monthly_fee is not None:
        part = Decimal(sum(gpus.values())) / Decimal(share.candidate_gpus)
        fee = Money((terms.monthly_fee.amount * part).quantize(Decimal("0.01")), terms.monthly_fee.currency)
    deal = DealTerms(
        tenant=terms.tenant,
        site=site,
        start_s=terms.start_s,
        end_s=terms.end_s,
        gpus=gpus,
        monthly_fee=fee,
        price_per_gpu_hour=terms.price_per_gpu_hour,
        ramp=terms.ramp,
        notice_days=terms.notice_days,
        initial_months=terms.initial_months,
        wacc=terms.wacc,
    )
    if terms.tier is not None and terms.book is not None:
        return tier_deals(deal, terms.book, terms.tier, fleet, costs)
    return (analyse_deal(deal, fleet, costs),)


def _selling_problems(terms: LeaseTerms, snap: FleetSnapshot, units: Sequence[Unit]) -> list[str]:
    """Exactly one way of selling, and a tier that prices every candidate model."""
    ways = [terms.price_per_gpu_hour, terms.monthly_fee, terms.tier, terms.demand]
    if sum(w is not None for w in ways) != 1:
        return ["price_per_gpu_hour, monthly_fee, tier, demand: give exactly one"]
    if (terms.tier is not None or terms.demand is not None) and terms.book is None:
        return ["book: a tier or a demand stream is priced from a price book; give one"]
    if terms.demand is not None:
        return demand_problems(terms.demand, snap, [n for u in units for n in u.nodes])
    if terms.tier is None or terms.book is None:
        return []
    models = {snap.models[int(snap.node_model[n])] for u in units for n in u.nodes}
    return tier_problems(terms.book, terms.tier.value, models, terms.start_s, terms.end_s)


def _currency(terms: LeaseTerms) -> str:
    priced = terms.price_per_gpu_hour or terms.monthly_fee
    if priced is not None:
        return priced.currency
    assert terms.book is not None
    return terms.book.cards.currency


def _demand_option(
    fleet: Fleet,
    snap: FleetSnapshot,
    kept: Kept,
    unfinished: int,
    *,
    terms: LeaseTerms,
    costs: CostSource,
    contracts: Sequence[Contract],
) -> Option:
    assert terms.demand is not None
    sale = sell_to_demand(
        fleet, snap, kept.leased_units, terms.demand, costs, wacc=terms.wacc, book_contracts=contracts
    )
    return Option(
        kept,
        (),
        unfinished,
        sale.total_revenue,
        sale.annual_revenue,
        sale.annual_tco,
        sale.npv,
        sale.revenue_at_risk,
        sale.top1_share,
        sale.hhi,
        sale,
    )
