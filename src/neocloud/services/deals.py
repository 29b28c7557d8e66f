"""Deals and the book: what a proposed contract is worth, and how concentrated the
ledger's leases make the operator's revenue. Reads only; nothing here writes.

The ledger's leases become :class:`~neocloud.economics.contract.Contract` values in one
place, :func:`lease_contract`: a lease pays the price it was signed at (from the price-book
version it records, or the operator's override) on the GPU-hours of its ``contract``
segments; it is take-or-pay once it is confirmed or active on a committed tier (wholesale
or reserved; on-demand and spot commit nothing, and a hold commits nothing), and it has no
notice clause (the ledger's early termination is by agreement).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from neocloud.domain.clock import to_s
from neocloud.domain.counts import split_in_proportion
from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Fleet, Site
from neocloud.domain.leases import LIVE_STATES, Lease, LeaseState, Tier
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import Money, round_money
from neocloud.economics.assumptions import Assumptions
from neocloud.economics.book import Book, book
from neocloud.economics.contract import Contract, Prepayment, Tranche, checked, term_months, whole_term
from neocloud.economics.cost import CostInputs, Tco, tco
from neocloud.economics.deal import (
    DEFAULT_WACC,
    MARKET_PRICES,
    CostBasis,
    DealAnalysis,
    MarketPrice,
    analyse,
)
from neocloud.economics.pricebook import WholesaleCard
from neocloud.services.leasing import LeasingService

DAY_S = 86_400
#: The book's revenue period when none is given: the next 365 days from now.
DEFAULT_PERIOD_S = 365 * DAY_S
COMMITTED = frozenset({LeaseState.CONFIRMED, LeaseState.ACTIVE})

#: What a site's capacity costs: the cost basis for ``models`` at ``site`` of a fleet.
CostSource = Callable[[Fleet, Site, Iterable[str]], CostBasis]
#: The TCO lines that are cash operating costs; the others (hardware, facility, financing)
#: recover the capex, which a deal's cash flows pay at the start instead.
OPERATING_LINES = ("power", "failures", "other_opex")


@dataclass(frozen=True, slots=True)
class DealTerms:
    """A proposed deal as an edge (CLI, API) gives it. ``gpus``: per model; ``None``
    takes every GPU of the site (the whole site). Exactly one of ``monthly_fee`` and
    ``price_per_gpu_hour``. ``wacc``: ``None`` takes the cost model's."""

    tenant: str
    site: str | None
    start_s: int
    end_s: int
    gpus: Mapping[str, int] | None = None
    monthly_fee: Money | None = None
    price_per_gpu_hour: Money | None = None
    ramp: tuple[Decimal, ...] = ()
    prepayment: Prepayment | None = None
    notice_days: int | None = None
    initial_months: int = 0
    take_or_pay: bool = True
    wacc: Decimal | None = None
    market: tuple[MarketPrice, ...] = MARKET_PRICES


@dataclass(frozen=True, slots=True)
class DealReport:
    """A deal's analysis, its cost basis, and (when a book was given) the book with it."""

    analysis: DealAnalysis
    costs: CostBasis
    site: Site
    book: Book | None = None
    book_label: str = ""
    warnings: tuple[str, ...] = field(default=())


class DealService:
    """Deal analysis and the book, over the ledger (``leasing``) and a cost source."""

    def __init__(self, leasing: LeasingService, costs: CostSource | None) -> None:
        self.leasing = leasing
        self._costs = costs

    def costs(self, fleet: Fleet, site: Site, models: Iterable[str]) -> CostBasis:
        """The cost basis of ``models`` at ``site`` from the cost source."""
        if self._costs is None:
            raise RequestError(["costs: this deployment has no cost model to cost a deal with"])
        return self._costs(fleet, site, models)

    def contracts(self) -> list[Contract]:
        """The ledger's live leases (held, confirmed, active) as contracts."""
        leases = [le for le in self.leasing.leases() if le.state in LIVE_STATES]
        bookings = self.leasing.bookings_of(le.id for le in leases)
        return lease_contracts(leases, self.leasing.fleet(), bookings, self._wholesale_cards(leases))

    def _wholesale_cards(self, leases: Sequence[Lease]) -> dict[str, WholesaleCard]:
        """The wholesale card each wholesale lease was signed at (by lease id), from the
        price-book version it records."""
        pricing = self.leasing.pricing
        wanted = [le for le in leases if le.request.tier is Tier.WHOLESALE and le.request.price_version]
        if pricing is None or not wanted:
            return {}
        books = {b.version: b for b in pricing.versions()}
        out = {}
        for le in wanted:
            book_ = books.get(le.request.price_version or 0)
            cards = book_.cards.wholesale if book_ else ()
            card = next((c for c in cards if c.model.casefold() == le.model.casefold()), None)
            if card is not None:
                out[le.id] = card
        return out

    def book(self, *, start_s: int | None = None, end_s: int | None = None, extra: Sequence[Contract] = ()) -> Book:
        """The book of the ledger's live leases (and ``extra`` contracts) as of now, with
        revenue over ``[start_s, end_s)`` (default: from now, for 365 days from the start)."""
        now_s = to_s(self.leasing.clock.now())
        start = now_s if start_s is None else start_s
        end = start + DEFAULT_PERIOD_S if end_s is None else end_s
        return book([*self.contracts(), *extra], now_s, (start, end))

    def analyse_on_ledger(self, terms: DealTerms, *, with_book: bool = True) -> DealReport:
        """``terms`` on a site of the ledger's fleet, with the ledger's book if asked."""
        return self.analyse(terms, self.leasing.fleet(), with_book=with_book)

    def analyse(self, terms: DealTerms, fleet: Fleet, *, with_book: bool = False) -> DealReport:
        """``terms`` on ``fleet``'s site, costed by the cost source; with ``with_book``, the
        ledger's book with the deal in it. Raises :class:`RequestError` naming each bad field."""
        report = analyse_deal(terms, fleet, self.costs)
        if not with_book:
            return report
        joined = self.book(extra=[report.analysis.contract])
        warnings = oversubscribed(joined, report.analysis.contract, site_gpus(fleet, report.site.name))
        return DealReport(
            report.analysis, report.costs, report.site, joined, "the ledger's live leases and this deal", warnings
        )


def analyse_deal(terms: DealTerms, fleet: Fleet, costs: CostSource) -> DealReport:
    """The analysis of ``terms`` on a site of ``fleet`` (no book)."""
    site = _site(fleet, terms.site)
    on_site = site_gpus(fleet, site.name)
    gpus = dict(terms.gpus) if terms.gpus is not None else on_site
    problems = [
        f"gpus: {n:,} {m} asked; {site.name} has {on_site.get(m, 0):,}"
        for m, n in sorted(gpus.items())
        if n > on_site.get(m, 0)
    ]
    if problems:
        raise RequestError(problems)
    contract = checked(
        Contract(
            tenant=terms.tenant,
            site=site.name,
            tranches=whole_term(gpus, terms.start_s, terms.end_s),
            monthly_fee=terms.monthly_fee,
            price_per_gpu_hour=terms.price_per_gpu_hour,
            ramp=terms.ramp,
            prepayment=terms.prepayment,
            notice_days=terms.notice_days,
            initial_months=terms.initial_months,
            take_or_pay=terms.take_or_pay,
            id="proposed",
        )
    )
    basis = costs(fleet, site, sorted(gpus))
    analysis = analyse(contract, basis, wacc=terms.wacc, market=terms.market)
    return DealReport(analysis, basis, site)


#: The tiers whose leases commit the tenant to pay for the whole term.
TAKE_OR_PAY_TIERS = frozenset({Tier.WHOLESALE, Tier.RESERVED})


def lease_contracts(
    leases: Iterable[Lease],
    fleet: Fleet,
    bookings: Iterable[Booking],
    wholesale: Mapping[str, WholesaleCard] | None = None,
) -> list[Contract]:
    """Each lease as a contract, its site and GPU models read from its bookings;
    ``wholesale``: the card each wholesale lease was signed at, by lease id."""
    node_of = {n.id: n for n in fleet.nodes}
    placed: dict[str, Counter[tuple[str, str]]] = {}
    for b in bookings:
        node = node_of.get(b.node)
        if node is not None and b.kind is HolderKind.LEASE:  # spares are not the contract
            placed.setdefault(b.holder, Counter())[(node.site, node.gpu_model)] += node.gpu_count
    cards = wholesale or {}
    return [lease_contract(le, placed.get(le.id, Counter()), cards.get(le.id)) for le in leases if le.contract]


def lease_contract(
    lease: Lease, placed: Mapping[tuple[str, str], int], wholesale: WholesaleCard | None = None
) -> Contract:
    """THE conversion of a ledger lease to a contract (see the module docstring).
    ``placed``: GPUs of the lease's nodes per (site, model); it names the site and
    splits a multi-model lease's segments across models in proportion."""
    sites = sorted({site for site, _ in placed}) or [lease.request.shape.site or "unplaced"]
    models = Counter[str]()
    for (_, model), n in placed.items():
        models[model] += n
    if not models:
        models[lease.model.split("+")[0]] = 1
    tranches = tuple(
        Tranche(model, n, seg.start_s, seg.end_s)
        for seg in lease.contract
        for model, n in split_in_proportion(seg.gpus, models).items()
        if n > 0
    )
    contract = Contract(
        tenant=lease.tenant,
        site="+".join(sites),
        tranches=tranches,
        take_or_pay=lease.state in COMMITTED and lease.request.tier in TAKE_OR_PAY_TIERS,
        **_money_terms(lease, wholesale),
        id=lease.id,
    )
    months = term_months(contract)  # a ramp longer than a short lease's term is cut to it
    return replace(contract, ramp=contract.ramp[:months]) if len(contract.ramp) > months else contract


def _money_terms(lease: Lease, wholesale: WholesaleCard | None) -> dict[str, Any]:
    """What the lease pays: a wholesale lease of one size, the monthly fee and ramp of the
    card it was signed at (the ramp's reduced months are revenue the book must not
    overstate); any other, the rate per GPU-hour it was signed at."""
    if wholesale is None or len({s.gpus for s in lease.contract}) != 1:
        return {"price_per_gpu_hour": lease.price_per_gpu_hour}
    fee = wholesale.gpu_month
    months = max((r.month for r in wholesale.ramp), default=0)
    off = {r.month: r.discount for r in wholesale.ramp}
    return {
        "monthly_fee": Money(round_money(fee.amount * lease.contract[0].gpus, fee.currency), fee.currency),
        "ramp": tuple(1 - off.get(m, Decimal(0)) for m in range(1, months + 1)),
    }


def oversubscribed(b: Book, deal: Contract, capacity: Mapping[str, int]) -> tuple[str, ...]:
    """Where the deal and the book's other commitments at its site would need more GPUs
    of a model than the site has, at some instant of the deal's term (a what-if does not
    book anything: this says what booking it would run into)."""
    out = []
    for model, wanted in sorted(deal.gpus_by_model().items()):
        others = [
            m
            for m in b.commitments
            if m.site == deal.site
            and m.model == model
            and m.contract != deal.id
            and m.start_s < deal.end_s
            and deal.start_s < m.end_s
        ]
        points = {max(deal.start_s, m.start_s) for m in others}
        peak = max((sum(m.gpus for m in others if m.start_s <= t < m.end_s) for t in points), default=0)
        if peak + wanted > capacity.get(model, 0):
            holders = ", ".join(sorted({m.tenant for m in others}))
            out.append(
                f"{deal.site}: {peak:,} of its {capacity.get(model, 0):,} {model} are committed to {holders} "
                f"during the term; this deal needs {wanted:,} more"
            )
    return tuple(out)


def tco_cost_source(assumptions: Callable[[], Assumptions]) -> CostSource:
    """Costs from the cost model (:mod:`neocloud.economics.cost`) under the assumptions
    ``assumptions()`` gives, asked for each time a deal is costed (it may cache them)."""

    def basis(fleet: Fleet, site: Site, models: Iterable[str]) -> CostBasis:
        given = assumptions()
        tcos = {m: tco(CostInputs.resolve(given, m, site, fleet.catalog.get(m))) for m in models}
        return cost_basis(tcos, given.version)

    return basis


def cost_basis(tcos: Mapping[str, Tco], version: str) -> CostBasis:
    """A deal's cost basis from the cost model's TCO per model: the whole TCO per GPU-hour;
    its operating lines (:data:`OPERATING_LINES`) as the cash cost; hardware plus facility
    capex per GPU at the start; the WACC the TCO was financed at."""
    opex = {
        m: Money(sum((t.line(k).per_gpu_hour.amount for k in OPERATING_LINES), Decimal(0)), t.per_gpu_hour.currency)
        for m, t in tcos.items()
    }
    capex = {
        m: Money(t.capex_per_gpu.amount + t.facility_capex_per_gpu.amount, t.capex_per_gpu.currency)
        for m, t in tcos.items()
    }
    waccs = sorted({t.wacc for t in tcos.values()})
    return CostBasis(
        tco_per_gpu_hour={m: t.per_gpu_hour for m, t in tcos.items()},
        opex_per_gpu_hour=opex,
        capex_per_gpu=capex,
        source=f"cost model, assumptions {version}",
        wacc=waccs[-1] if waccs else DEFAULT_WACC,
    )


def site_gpus(fleet: Fleet, site: str) -> dict[str, int]:
    """GPUs per model at ``site``."""
    out: Counter[str] = Counter()
    for node in fleet.nodes:
        if node.site == site:
            out[node.gpu_model] += node.gpu_count
    return dict(sorted(out.items()))


def _site(fleet: Fleet, name: str | None) -> Site:
    if name is None:
        if len(fleet.sites) == 1:
            return fleet.sites[0]
        raise RequestError([f"site: the fleet has {len(fleet.sites)} sites; name one ({_names(fleet)})"])
    found = next((s for s in fleet.sites if s.name == name), None)
    if found is None:
        raise RequestError([f"site: no site {name!r}; the fleet has {_names(fleet)}"])
    return found


def _names(fleet: Fleet) -> str:
    return ", ".join(s.name for s in fleet.sites)
