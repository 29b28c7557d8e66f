"""API schemas of the price book: the book in force, its versions, a new version, a margin.

Amounts are strings (exact decimals), instants ISO 8601 UTC. A new version's ``cards``
is the rate-card document of ``docs/economics.md`` (the same as a YAML or JSON file
for ``neocloud price publish``); it is checked in full by the service, and every
problem is a 422 naming its field (``cards.reserved[0].discounts[1].discount``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from neocloud.economics.pricebook import (
    Margin,
    OnDemandCard,
    PriceBook,
    ReservedCard,
    SpotCard,
    WholesaleCard,
    discounted,
)


def _iso(t_s: int) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat().replace("+00:00", "Z")


class MarginOut(BaseModel):
    """The operator's margin over TCO (never in a tenant's answer)."""

    tco_per_gpu_hour: str
    margin_per_gpu_hour: str
    margin_total: str
    margin_share: str
    currency: str

    @classmethod
    def of(cls, m: Margin) -> MarginOut:
        return cls(
            tco_per_gpu_hour=str(m.tco_per_gpu_hour.amount),
            margin_per_gpu_hour=str(m.per_gpu_hour.amount),
            margin_total=str(m.total.amount),
            margin_share=str(m.share),
            currency=m.total.currency,
        )


class TermRowOut(BaseModel):
    min_term_days: int
    discount: str
    rate: str


class ReservedOut(BaseModel):
    model: str
    base: str
    discounts: list[TermRowOut]


class OnDemandOut(BaseModel):
    model: str
    rate: str


class SpotOut(BaseModel):
    model: str
    discount: str
    eviction_notice_s: int


class RampOut(BaseModel):
    month: int
    discount: str


class WholesaleOut(BaseModel):
    model: str
    per_gpu_month: str
    monthly_fee: str | None
    unit_gpus: int | None
    ramp: list[RampOut]


class CardsOut(BaseModel):
    currency: str
    wholesale: list[WholesaleOut]
    reserved: list[ReservedOut]
    on_demand: list[OnDemandOut]
    spot: list[SpotOut]


class BookOut(BaseModel):
    """One price-book version. ``author`` and ``note`` are the operator's (absent for a tenant)."""

    version: int
    effective: str
    created: str
    author: str | None = None
    note: str | None = None
    cards: CardsOut

    @classmethod
    def of(cls, book: PriceBook, *, operator: bool) -> BookOut:
        c = book.cards
        return cls(
            version=book.version,
            effective=_iso(book.effective_s),
            created=_iso(book.created_s),
            author=book.author if operator else None,
            note=book.note if operator else None,
            cards=CardsOut(
                currency=book.cards.currency,
                wholesale=[_wholesale(w) for w in c.wholesale],
                reserved=[_reserved(r) for r in c.reserved],
                on_demand=[_on_demand(o) for o in c.on_demand],
                spot=[_spot(s) for s in c.spot],
            ),
        )


class VersionsOut(BaseModel):
    items: list[BookOut]


class VersionIn(BaseModel):
    """A new version: the rate-card document and when it takes effect (default now)."""

    model_config = ConfigDict(extra="forbid")

    effective: AwareDatetime | None = Field(None, description="When it takes effect: now or later (default now).")
    cards: dict[str, Any] = Field(
        description="The rate-card document: currency, note, wholesale, reserved, on_demand, spot."
    )


def _reserved(r: ReservedCard) -> ReservedOut:
    rows = [
        TermRowOut(
            min_term_days=d.min_term_days, discount=str(d.discount), rate=str(discounted(r.base, d.discount).amount)
        )
        for d in r.discounts
    ]
    return ReservedOut(model=r.model, base=str(r.base.amount), discounts=rows)


def _on_demand(o: OnDemandCard) -> OnDemandOut:
    return OnDemandOut(model=o.model, rate=str(o.rate.amount))


def _spot(s: SpotCard) -> SpotOut:
    return SpotOut(model=s.model, discount=str(s.discount), eviction_notice_s=s.eviction_notice_s)


def _wholesale(w: WholesaleCard) -> WholesaleOut:
    return WholesaleOut(
        model=w.model,
        per_gpu_month=str(w.gpu_month.amount),
        monthly_fee=None if w.monthly_fee is None else str(w.monthly_fee.amount),
        unit_gpus=w.unit_gpus,
        ramp=[RampOut(month=r.month, discount=str(r.discount)) for r in w.ramp],
    )
