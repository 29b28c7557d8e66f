"""Schemas of ``/v1/economics/deals`` and ``/v1/economics/book``; the CLI's ``plan deal
--json`` and ``plan book --json`` print the same shapes.

Money goes over the wire as decimal strings (``"1250000000.00"``) with a ``currency``
beside them, never as floats; shares, rates and ratios are numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from neocloud.api.schemas import Instant, Name, Schema, iso, seconds
from neocloud.domain.money import Money, round_money
from neocloud.economics.book import Book, Commitment, TenantRow
from neocloud.economics.contract import MAX_CONTRACT_GPUS, MAX_NOTICE_DAYS, Drawdown, Prepayment
from neocloud.economics.deal import DealAnalysis, MonthFlow, YearSummary
from neocloud.economics.months import MAX_TERM_MONTHS
from neocloud.services.deals import DealReport, DealTerms

MAX_MODELS = 16
Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=30)]
Fraction = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=1, max_digits=12)]
DealGpus = Annotated[int, Field(strict=True, ge=1, le=MAX_CONTRACT_GPUS)]


class DealIn(Schema):
    """A proposed deal on a site of the ledger's fleet. Give ``monthly_fee`` (per
    anniversary month from ``start``) or ``price_per_gpu_hour``; ``gpus`` per model, or
    leave it out to take the whole site."""

    tenant: Name
    site: Name | None = Field(None, description="A site of the fleet; may be left out when the fleet has one.")
    gpus: dict[Name, DealGpus] | None = Field(None, max_length=MAX_MODELS, description="GPUs per model.")
    start: Instant
    end: Instant = Field(description="End, exclusive: through May 2029 is 2029-06-01.")
    monthly_fee: Amount | None = None
    price_per_gpu_hour: Amount | None = None
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    ramp: list[Fraction] = Field(
        default_factory=list, max_length=MAX_TERM_MONTHS, description="Fee fractions of the first months."
    )
    prepayment_share: Fraction | None = Field(None, description="Prepaid share of the contract's fees.")
    prepayment_amount: Amount | None = None
    drawdown: Drawdown = Drawdown.PRO_RATA
    notice_days: Annotated[int, Field(strict=True, ge=0, le=MAX_NOTICE_DAYS)] | None = None
    initial_months: Annotated[int, Field(strict=True, ge=0, le=MAX_TERM_MONTHS)] = 0
    take_or_pay: bool = True
    wacc: Annotated[Decimal, Field(allow_inf_nan=False, ge=0, lt=1, max_digits=12)] | None = Field(
        None, description="Annual WACC (0.10 is 10%); default: the cost model's."
    )
    with_book: bool = Field(True, description="Also return the ledger's book with this deal in it.")

    def to_domain(self) -> DealTerms:
        prepay = None
        if self.prepayment_share is not None or self.prepayment_amount is not None:
            amount = None if self.prepayment_amount is None else Money(self.prepayment_amount, self.currency)
            prepay = Prepayment(self.prepayment_share, amount, self.drawdown)
        return DealTerms(
            tenant=self.tenant,
            site=self.site,
            start_s=seconds(self.start) or 0,
            end_s=seconds(self.end) or 0,
            gpus=self.gpus,
            monthly_fee=None if self.monthly_fee is None else Money(self.monthly_fee, self.currency),
            price_per_gpu_hour=None
            if self.price_per_gpu_hour is None
            else Money(self.price_per_gpu_hour, self.currency),
            ramp=tuple(self.ramp),
            prepayment=prepay,
            notice_days=self.notice_days,
            initial_months=self.initial_months,
            take_or_pay=self.take_or_pay,
            wacc=self.wacc,
        )


class MonthOut(Schema):
    month: int
    start: str | None
    fee: str
    prepayment_in: str
    drawdown: str
    opex: str
    capex: str
    net: str
    cumulative: str

    @classmethod
    def of(cls, m: MonthFlow, cur: str) -> MonthOut:
        return cls(
            month=m.month,
            start=iso(m.start_s),
            fee=amount(m.fee, cur),
            prepayment_in=amount(m.prepayment_in, cur),
            drawdown=amount(m.drawdown, cur),
            opex=amount(m.opex, cur),
            capex=amount(m.capex, cur),
            net=amount(m.net, cur),
            cumulative=amount(m.cumulative, cur),
        )


class YearOut(Schema):
    year: int
    revenue: str
    tco: str
    margin: str

    @classmethod
    def of(cls, y: YearSummary, cur: str) -> YearOut:
        return cls(year=y.year, revenue=amount(y.revenue, cur), tco=amount(y.tco, cur), margin=amount(y.margin, cur))


class MarketOut(Schema):
    label: str
    model: str
    price_per_gpu_hour: str
    source: str
    implied_over_market: float


class CostOut(Schema):
    model: str
    gpus: int
    tco_per_gpu_hour: str
    opex_per_gpu_hour: str
    capex_per_gpu: str


class DealOut(Schema):
    """The analysis; money as decimal strings in ``currency``; the rounding rule is in docs/economics.md."""

    tenant: str
    site: str
    currency: str
    gpus: int
    gpus_by_model: dict[str, int]
    start: str | None
    end: str | None
    wacc: float
    costs: list[CostOut]
    cost_source: str
    total_revenue: str
    total_tco: str
    total_opex: str
    capex: str
    prepayment: str
    annual_revenue: str
    annual_tco: str
    gross_margin: float
    term_gross_margin: float
    npv: str
    irr_monthly: float | None
    irr_annual: float | None
    payback_month: int | None
    earliest_notice: str | None
    earliest_exit: str | None
    revenue_before_exit: str
    revenue_at_risk: str
    implied_price_per_gpu_hour: str
    effective_price_per_gpu_hour: str
    market: list[MarketOut]
    years: list[YearOut]
    months: list[MonthOut]
    book: BookOut | None = None
    book_label: str = ""
    warnings: list[str] = Field(default_factory=list, description="Commitments at the site this deal would run into.")

    @classmethod
    def of(cls, report: DealReport) -> DealOut:
        a = report.analysis
        return cls(
            **_deal_head(a),
            costs=_costs(report),
            cost_source=report.costs.source,
            **_deal_money(a),
            market=[
                MarketOut(
                    label=c.market.label,
                    model=c.market.model,
                    price_per_gpu_hour=str(c.market.price.amount),
                    source=c.market.source,
                    implied_over_market=c.ratio,
                )
                for c in a.comparisons
            ],
            years=[YearOut.of(y, a.currency) for y in a.years],
            months=[MonthOut.of(m, a.currency) for m in a.months],
            book=None if report.book is None else BookOut.of(report.book),
            book_label=report.book_label,
            warnings=list(report.warnings),
        )


def _deal_head(a: DealAnalysis) -> dict[str, Any]:
    c = a.contract
    return {
        "tenant": c.tenant,
        "site": c.site,
        "currency": a.currency,
        "gpus": a.gpus,
        "gpus_by_model": c.gpus_by_model(),
        "start": iso(c.start_s),
        "end": iso(c.end_s),
        "wacc": float(a.wacc),
    }


def _deal_money(a: DealAnalysis) -> dict[str, Any]:
    return {
        "total_revenue": amount(a.total_revenue, a.currency),
        "total_tco": amount(a.total_tco, a.currency),
        "total_opex": amount(a.total_opex, a.currency),
        "capex": amount(a.capex, a.currency),
        "prepayment": amount(a.prepayment, a.currency),
        "annual_revenue": amount(a.annual_revenue, a.currency),
        "annual_tco": amount(a.annual_tco, a.currency),
        "gross_margin": a.gross_margin,
        "term_gross_margin": a.term_gross_margin,
        "npv": amount(a.npv, a.currency),
        "irr_monthly": a.irr_monthly,
        "irr_annual": a.irr_annual,
        "payback_month": a.payback_month,
        "earliest_notice": iso(a.earliest_notice_s),
        "earliest_exit": iso(a.earliest_exit_s),
        "revenue_before_exit": amount(a.revenue_before_exit, a.currency),
        "revenue_at_risk": amount(a.revenue_at_risk, a.currency),
        "implied_price_per_gpu_hour": str(a.implied_price_per_gpu_hour),
        "effective_price_per_gpu_hour": str(a.effective_price_per_gpu_hour),
    }


def _costs(report: DealReport) -> list[CostOut]:
    basis, gpus = report.costs, report.analysis.contract.gpus_by_model()
    return [
        CostOut(
            model=m,
            gpus=n,
            tco_per_gpu_hour=str(basis.tco_per_gpu_hour[m].amount),
            opex_per_gpu_hour=str(basis.opex_per_gpu_hour[m].amount),
            capex_per_gpu=str(basis.capex_per_gpu[m].amount),
        )
        for m, n in sorted(gpus.items())
    ]


class TenantOut(Schema):
    tenant: str
    contracts: int
    revenue: str
    backlog: str
    take_or_pay_backlog: str
    revenue_at_risk: str
    remaining_term_years: float
    backlog_share: float
    revenue_share: float

    @classmethod
    def of(cls, r: TenantRow, cur: str) -> TenantOut:
        return cls(
            tenant=r.tenant,
            contracts=r.contracts,
            revenue=amount(r.revenue, cur),
            backlog=amount(r.backlog, cur),
            take_or_pay_backlog=amount(r.take_or_pay_backlog, cur),
            revenue_at_risk=amount(r.revenue_at_risk, cur),
            remaining_term_years=r.remaining_term_years,
            backlog_share=r.backlog_share,
            revenue_share=r.revenue_share,
        )


class CommitmentOut(Schema):
    site: str
    tenant: str
    contract: str
    model: str
    gpus: int
    start: str | None
    end: str | None
    take_or_pay: bool

    @classmethod
    def of(cls, m: Commitment) -> CommitmentOut:
        return cls(
            site=m.site,
            tenant=m.tenant,
            contract=m.contract,
            model=m.model,
            gpus=m.gpus,
            start=iso(m.start_s),
            end=iso(m.end_s),
            take_or_pay=m.take_or_pay,
        )


class BookOut(Schema):
    """The book read at ``at``; revenue over ``period_start``-``period_end``; HHI on 0-10,000."""

    at: str | None
    period_start: str | None
    period_end: str | None
    currency: str
    revenue: str
    backlog: str
    take_or_pay_share: float
    remaining_term_years: float
    revenue_at_risk: str
    top_tenant: str | None
    top1_backlog_share: float
    top1_revenue_share: float
    hhi: float
    hhi_scale: int = 10_000
    tenants: list[TenantOut]
    commitments: list[CommitmentOut]

    @classmethod
    def of(cls, b: Book) -> BookOut:
        return cls(
            at=iso(b.now_s),
            period_start=iso(b.period[0]),
            period_end=iso(b.period[1]),
            currency=b.currency,
            revenue=amount(b.revenue, b.currency),
            backlog=amount(b.backlog, b.currency),
            take_or_pay_share=b.take_or_pay_share,
            remaining_term_years=b.remaining_term_years,
            revenue_at_risk=amount(b.revenue_at_risk, b.currency),
            top_tenant=b.top_tenant,
            top1_backlog_share=b.top1_backlog_share,
            top1_revenue_share=b.top1_revenue_share,
            hhi=b.hhi,
            tenants=[TenantOut.of(r, b.currency) for r in b.tenants],
            commitments=[CommitmentOut.of(m) for m in b.commitments],
        )


def amount(value: Decimal, currency: str) -> str:
    """A money amount as a decimal string at the currency's minor unit (``"0.00"``, not
    ``"0"``). Amounts here are sums of lines already rounded to it: nothing changes."""
    return str(round_money(value, currency))


DealOut.model_rebuild()
