"""The price book's use cases: publish a version, read the book in force and its
history, price a placed plan, and the operator's margin over TCO.

Versions are appended through the store's :class:`~neocloud.services.ports.Writer`
under its write lock (the next number is the latest + 1, so two publishers never
share one), with a ``price.published`` event in the same transaction. A new version
takes effect now or later and never before the latest one, so what was in force at
any past instant never changes; a lease records the version and price it was signed
at, and a later version leaves it alone.

The cost side is injected: ``tco(site, gpu_model)`` is the owner's TCO per GPU-hour
(the cost model's ``CostService.tco_per_gpu_hour``), ``None`` where it is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from neocloud.domain.changes import Change, Event
from neocloud.domain.clock import Clock, to_s
from neocloud.domain.errors import NotFound, RequestError, SpecError
from neocloud.domain.leases import LeaseRequest, Segment, Tier
from neocloud.domain.money import Money
from neocloud.economics.pricebook import (
    Margin,
    Price,
    PriceBook,
    Priced,
    PriceRefused,
    RateCards,
    book_problems,
    in_force,
    margin,
    price_for,
    price_term,
    priced_at,
    publish_problems,
)
from neocloud.economics.pricebook_defaults import SEED_AUTHOR, SEED_NOTE, default_cards
from neocloud.services.ports import LedgerStore

#: ``(site, gpu_model) -> TCO per GPU-hour`` or ``None`` where unknown.
TcoFn = Callable[[str, str], Money | None]
#: Parses a rate-card document (a file's or an API body's) into cards and a note,
#: raising :class:`SpecError` naming each field (``adapters/pricefile.py``).
ParseCards = Callable[[Any, str], tuple[RateCards, str]]

NO_BOOK = "price: no price book in force; publish one (neocloud price publish FILE)"


def no_cost(site: str, model: str) -> Money | None:
    """The cost function when no cost model is wired: every TCO unknown."""
    return None


#: The terms the margin table shows per tier: on-demand, reserved one year, spot, wholesale.
HEADLINE_TERMS = ((Tier.ON_DEMAND, 1), (Tier.RESERVED, 365), (Tier.SPOT, 1), (Tier.WHOLESALE, 365))


@dataclass(frozen=True, slots=True)
class SiteMargin:
    """For one site and GPU model: its TCO per GPU-hour (``None``: unknown) and, per
    headline tier, the rate and the margin over TCO (``None`` where either is unknown)."""

    site: str
    model: str
    tco: Money | None
    tiers: tuple[tuple[Tier, Money | None, Money | None], ...]


@dataclass(frozen=True, slots=True)
class TermPrice:
    """A plan priced from the book: the request as it will be recorded (price, tier,
    version) and the term's charges."""

    request: LeaseRequest
    priced: Priced


class PricingService:
    def __init__(
        self, store: LedgerStore, clock: Clock, *, parse: ParseCards | None = None, tco: TcoFn = no_cost
    ) -> None:
        self.store = store
        self.clock = clock
        self.parse = parse
        self.tco = tco

    # -- reads ---------------------------------------------------------------------
    def versions(self) -> list[PriceBook]:
        """Every version, oldest first."""
        return self.store.price_books()

    def book_at(self, at_s: int | None = None) -> PriceBook:
        """The book in force at ``at_s`` (default now); :class:`NotFound` before the first version."""
        t_s = self._now() if at_s is None else at_s
        book = in_force(self.versions(), t_s)
        if book is None:
            raise NotFound(NO_BOOK)
        return book

    def price(self, tier: Tier, model: str, start_s: int, end_s: int, *, at_s: int | None = None) -> Price:
        """One price from the book in force at ``at_s`` (default now)."""
        return price_for(self.book_at(at_s), tier, model, start_s, end_s)

    def margins(self, book: PriceBook, pairs: Sequence[tuple[str, str]]) -> list[SiteMargin]:
        """The operator's margin table: for each ``(site, model)``, the TCO and each
        headline tier's rate and margin (rate - TCO) in ``book``."""
        out = []
        for site, model in pairs:
            tco = self.tco(site, model)
            tiers = []
            for tier, days in HEADLINE_TERMS:
                try:
                    rate: Money | None = price_for(book, tier, model, 0, days * 86_400).rate
                except PriceRefused:
                    rate = None
                known = rate is not None and tco is not None and tco.currency == rate.currency
                gross = Money(rate.amount - tco.amount, rate.currency) if known and rate and tco else None
                tiers.append((tier, rate, gross))
            out.append(SiteMargin(site, model, tco, tuple(tiers)))
        return out

    # -- publishing --------------------------------------------------------------------
    def publish(self, cards: RateCards, *, actor: str, note: str = "", effective_s: int | None = None) -> PriceBook:
        """Append a version taking effect at ``effective_s`` (default now): not in the
        past, not before the latest version's. Every problem is a :class:`RequestError`
        naming the field; nothing is written then."""
        _refuse(book_problems(cards))
        with self.store.writing() as writer:
            now_s = self._now()
            effective = now_s if effective_s is None else effective_s
            books = writer.price_books()
            latest = max(books, key=lambda b: b.version, default=None)
            _refuse(publish_problems(effective, now_s, latest, cards.currency))
            version = 1 if latest is None else latest.version + 1
            book = PriceBook(version, effective, cards, actor, note, now_s)
            writer.publish_prices(book)
            after = {"version": version, "effective": effective, "note": note}
            writer.write(Change(events=(Event("price.published", f"v{version}", now_s, actor, after=after),)))
            return book

    def publish_document(self, document: Any, *, source: str, actor: str, effective_s: int | None = None) -> PriceBook:
        """Publish a rate-card document (an API body): checked in full first."""
        if self.parse is None:
            raise RequestError(["cards: this service cannot read rate-card documents"])
        try:
            cards, note = self.parse(document, source)
        except SpecError as e:
            raise RequestError([f"{f.location or 'cards'}: {f.message}" for f in e.errors]) from None
        return self.publish(cards, actor=actor, note=note, effective_s=effective_s)

    def seed(self, actor: str) -> PriceBook | None:
        """Publish the seeded defaults as version 1, effective now, if no version exists."""
        if self.versions():
            return None
        return self.publish(default_cards(), actor=actor or SEED_AUTHOR, note=SEED_NOTE)

    # -- pricing a plan (called by the leasing service under its lock) -------------------
    def term(
        self, request: LeaseRequest, gpus_by_model: dict[str, int], contract: Sequence[Segment], now_s: int
    ) -> TermPrice:
        """A placed request priced: from the book in force at ``now_s`` for its tier, or
        at the operator's explicit price (recorded as an override, no version)."""
        if request.tier is Tier.WHOLESALE and request.shape.unit is None:
            raise RequestError(
                ["tier: wholesale sells whole units (unit or whole_site); a GPU count is reserved, on_demand or spot"]
            )
        explicit = request.price_per_gpu_hour
        if explicit is not None:
            prices = [Price(request.tier, m, 0, explicit) for m in gpus_by_model]
            return TermPrice(replace(request, price_version=None), self._priced(prices, gpus_by_model, contract))
        book = in_force(self.versions(), now_s)
        if book is None:
            raise RequestError([NO_BOOK])
        try:
            priced = price_term(book, request.tier, gpus_by_model, contract)
        except PriceRefused as e:
            raise RequestError([f"model: {e}"]) from None
        return TermPrice(replace(request, price_per_gpu_hour=priced.rate, price_version=book.version), priced)

    def repriced(self, request: LeaseRequest, gpus_by_model: dict[str, int], contract: Sequence[Segment]) -> Priced:
        """A priced request's charges again, from the version it names (or its override price)."""
        price = request.price_per_gpu_hour
        if request.price_version is None or price is None:
            rate = price or Money(Decimal(0))
            return self._priced([Price(request.tier, m, 0, rate) for m in gpus_by_model], gpus_by_model, contract)
        book = next((b for b in self.versions() if b.version == request.price_version), None)
        if book is None:
            raise NotFound(f"price book version {request.price_version} is not stored")
        return price_term(book, request.tier, gpus_by_model, contract)

    def margin(self, priced: Priced, sites_by_model: dict[str, str]) -> Margin | None:
        """The margin over TCO, or ``None`` where the cost model knows no TCO."""
        return margin(priced, {m: self.tco(site, m) for m, site in sites_by_model.items()})

    def _priced(self, prices: list[Price], gpus_by_model: dict[str, int], contract: Sequence[Segment]) -> Priced:
        try:
            return priced_at(prices, gpus_by_model, contract)
        except PriceRefused as e:
            raise RequestError([f"price: {e}"]) from None

    def _now(self) -> int:
        return to_s(self.clock.now())


def _refuse(problems: list[str]) -> None:
    if problems:
        raise RequestError(problems)
