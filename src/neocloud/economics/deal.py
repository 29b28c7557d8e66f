"""What a contract is worth to the operator: its monthly cash flows, NPV, IRR, payback,
earliest exit and revenue at risk, annual revenue against TCO, and the price per
GPU-hour it implies next to market prices.

**Rounding, once.** Every money *line* is rounded once, to the currency's minor unit
(cents for USD), half to even, where it is computed (:func:`round_money`); every total
is the sum of its rounded lines. A line is one stretch of one anniversary month
(:mod:`neocloud.economics.contract`) between cut points: month boundaries, tranche
boundaries, the earliest exit, and any instant the caller asks to cut at (``now``, a
reporting period). So "revenue before the exit" plus "revenue at risk" is the total to
the cent, and so is any split of the term.

**Cash flows.** Flow 0 is at the start: the prepayment received minus the capex the
contract uses. Flow *m* (m = 1..n) is month *m*'s fees, less the prepayment drawn
down against them, less the operating cost, at the end of month *m* (a partial last
month counts as a whole period). The operating cost is the cash part of the TCO
(``CostBasis.opex_per_gpu_hour``: power, facility, RMA, other opex) times GPU-hours;
the capital part of the TCO is the capex paid at flow 0, so it is not counted twice.
Gross margin uses the whole TCO (``tco_per_gpu_hour``), as an income statement does.
No residual value of the hardware at the end is counted (conservative).

**Rates.** The monthly discount rate is ``(1 + WACC) ** (1/12) - 1``; NPV is
``numpy_financial.npv`` at that rate. IRR is ``numpy_financial.irr`` of the monthly
flows, annualised as ``(1 + irr_m) ** 12 - 1``. Both work in floats: money goes in as
``float(Decimal)`` and NPV comes back rounded to the minor unit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy_financial as npf  # type: ignore[import-untyped]  # no stubs

from neocloud.domain.errors import RequestError
from neocloud.domain.money import MINOR_UNITS, Money, round_money, round_rate
from neocloud.economics.contract import Contract, Drawdown, checked
from neocloud.economics.months import HOURS_PER_MONTH, HOURS_PER_YEAR, add_months, contract_month, month_starts

#: The operator's weighted average cost of capital when none is given: 10%, between
#: investment-grade take-or-pay debt at ~6.5% (SOFR + 2.25% [R28], 2026-03) and early
#: or non-IG GPU debt at 11-15% [R26] (2025-06); the rate of economics.md's annuity
#: cross-check ([D] §1.7).
DEFAULT_WACC = Decimal("0.10")


@dataclass(frozen=True, slots=True)
class MarketPrice:
    """A market price per GPU-hour to set an implied price against."""

    label: str
    model: str
    price: Money
    source: str


#: Market prices the worked example compares with (economics.md §1.8 and §6).
MARKET_PRICES = (
    MarketPrice("H100 on demand", "H100", Money(Decimal("3.99")), "Lambda 8x [R30] 2026-09-20"),
    MarketPrice("H100 1-year contract", "H100", Money(Decimal("2.35")), "SemiAnalysis [R5] 2026-03"),
)


@dataclass(frozen=True, slots=True)
class CostBasis:
    """What the capacity costs the operator, per GPU model: the whole TCO per GPU-hour
    (for margins), its cash operating part per GPU-hour (for cash flows) and the capex
    per GPU paid at the start; and the operator's WACC (annual). ``source`` says where
    the numbers came from."""

    tco_per_gpu_hour: Mapping[str, Money]
    opex_per_gpu_hour: Mapping[str, Money]
    capex_per_gpu: Mapping[str, Money]
    source: str = ""
    wacc: Decimal = DEFAULT_WACC


@dataclass(frozen=True, slots=True)
class Line:
    """One rounded stretch ``[start_s, end_s)`` of anniversary month ``month`` (from 1)."""

    month: int
    start_s: int
    end_s: int
    gpu_hours: Decimal
    fee: Money
    drawdown: Money
    opex: Money
    tco: Money

    @property
    def cash(self) -> Decimal:
        """Fee received in cash this line: the fee less the prepayment credited to it."""
        return self.fee.amount - self.drawdown.amount


@dataclass(frozen=True, slots=True)
class MonthFlow:
    """Month ``month``'s sums of its lines (month 0: the flow at the start)."""

    month: int
    start_s: int
    fee: Decimal
    prepayment_in: Decimal
    drawdown: Decimal
    opex: Decimal
    capex: Decimal
    net: Decimal
    cumulative: Decimal


@dataclass(frozen=True, slots=True)
class YearSummary:
    """Contract year ``year`` (from 1: months 1-12, ...): revenue, TCO and gross margin."""

    year: int
    revenue: Decimal
    tco: Decimal

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.tco


@dataclass(frozen=True, slots=True)
class Comparison:
    """The implied price against one market price: ``ratio`` = implied / market."""

    market: MarketPrice
    ratio: float


@dataclass(frozen=True, slots=True)
class DealAnalysis:
    contract: Contract
    currency: str
    wacc: Decimal
    lines: tuple[Line, ...]
    months: tuple[MonthFlow, ...]
    years: tuple[YearSummary, ...]
    total_revenue: Decimal
    total_tco: Decimal
    total_opex: Decimal
    capex: Decimal
    prepayment: Decimal
    npv: Decimal
    irr_monthly: float | None
    irr_annual: float | None
    payback_month: int | None
    earliest_notice_s: int | None
    earliest_exit_s: int
    revenue_before_exit: Decimal
    revenue_at_risk: Decimal
    annual_revenue: Decimal
    annual_tco: Decimal
    gpus: int
    implied_price_per_gpu_hour: Decimal
    effective_price_per_gpu_hour: Decimal
    comparisons: tuple[Comparison, ...] = field(default=())

    @property
    def gross_margin(self) -> float:
        """Run-rate gross margin, (annual revenue - annual TCO) / annual revenue."""
        return float((self.annual_revenue - self.annual_tco) / self.annual_revenue) if self.annual_revenue else 0.0

    @property
    def term_gross_margin(self) -> float:
        """Gross margin over the whole term (ramp included)."""
        return float((self.total_revenue - self.total_tco) / self.total_revenue) if self.total_revenue else 0.0


def analyse(
    contract: Contract,
    costs: CostBasis,
    *,
    wacc: Decimal | None = None,
    market: Iterable[MarketPrice] = MARKET_PRICES,
) -> DealAnalysis:
    """The analysis of ``contract`` under ``costs`` at ``wacc`` (annual, e.g. 0.10;
    ``None``: the cost basis's).

    Raises :class:`RequestError` naming each bad field: the contract's own problems, a
    WACC outside [0, 1), a GPU model the costs do not cover, a currency that differs,
    a prepayment larger than the contract's fees."""
    checked(contract)
    wacc = costs.wacc if wacc is None else wacc
    _check_inputs(contract, costs, wacc)
    lines = schedule(contract, costs)
    total_fee = sum((ln.fee.amount for ln in lines), Decimal(0))
    prepay = _prepayment_amount(contract, total_fee)
    lines = _draw_down(contract, lines, prepay, total_fee)
    capex = _capex(contract, costs)
    months = _month_flows(contract, lines, prepay, capex)
    return _assemble(contract, costs, wacc, tuple(market), lines, months, capex, prepay)


def schedule(contract: Contract, costs: CostBasis | None = None, cuts: Iterable[int] = ()) -> tuple[Line, ...]:
    """The contract's lines, cut at month and tranche boundaries, the earliest exit and
    ``cuts``; each line's fee, opex and TCO rounded once (no prepayment drawn yet).
    Without ``costs`` the opex and TCO lines are zero (revenue only: the book)."""
    starts = month_starts(contract.start_s, contract.end_s)
    points = {contract.end_s, contract.earliest_exit_s(), *starts, *cuts}
    points |= {t for tr in contract.tranches for t in (tr.start_s, tr.end_s)}
    bounds = sorted(p for p in points if contract.start_s <= p <= contract.end_s)
    zero = Money(Decimal(0), contract.currency)
    out = []
    for a, b in itertools.pairwise(bounds):
        month = contract_month(starts, a)
        hours = _gpu_hours(contract, a, b)
        whole = add_months(contract.start_s, month) - starts[month - 1]  # the contract month's seconds
        fee = _fee(contract, whole, (a, b), month, sum(hours.values(), Decimal(0)))
        out.append(
            Line(
                month,
                a,
                b,
                sum(hours.values(), Decimal(0)),
                fee,
                zero,
                zero if costs is None else _cost(costs.opex_per_gpu_hour, hours, contract.currency),
                zero if costs is None else _cost(costs.tco_per_gpu_hour, hours, contract.currency),
            )
        )
    return tuple(out)


def monthly_rate(wacc: Decimal) -> float:
    """The monthly discount rate equivalent to an annual ``wacc``."""
    return float((1 + float(wacc)) ** (1 / 12) - 1)


# -- helpers, in call order ---------------------------------------------------------


def _check_inputs(contract: Contract, costs: CostBasis, wacc: Decimal) -> None:
    problems = []
    if not (wacc.is_finite() and Decimal(0) <= wacc < Decimal(1)):
        problems.append(f"wacc: {wacc} is not an annual rate from 0 to 1 (0.10 is 10%)")
    for model in sorted(contract.gpus_by_model()):
        for name, table in (
            ("tco", costs.tco_per_gpu_hour),
            ("opex", costs.opex_per_gpu_hour),
            ("capex", costs.capex_per_gpu),
        ):
            price = table.get(model)
            if price is None:
                problems.append(f"gpus: no {name} for GPU model {model!r} in the cost basis")
            elif price.currency != contract.currency:
                problems.append(f"gpus: {model} {name} is in {price.currency}, the contract in {contract.currency}")
    if problems:
        raise RequestError(problems)


def _gpu_hours(contract: Contract, a: int, b: int) -> dict[str, Decimal]:
    hours = Decimal(b - a) / 3600
    out: dict[str, Decimal] = {}
    for tr in contract.tranches:
        if tr.start_s <= a and b <= tr.end_s:
            out[tr.model] = out.get(tr.model, Decimal(0)) + tr.gpus * hours
    return out


def _fee(contract: Contract, full: int, span: tuple[int, int], month: int, gpu_hours: Decimal) -> Money:
    """The fee of ``span`` in contract month ``month`` of ``full`` seconds."""
    a, b = span
    ramp = contract.ramp[month - 1] if month <= len(contract.ramp) else Decimal(1)
    if contract.monthly_fee is not None:
        amount = contract.monthly_fee.amount * ramp * Decimal(b - a) / Decimal(full)
    else:
        assert contract.price_per_gpu_hour is not None
        amount = contract.price_per_gpu_hour.amount * ramp * gpu_hours
    return Money(round_money(amount, contract.currency), contract.currency)


def _cost(rates: Mapping[str, Money], hours: Mapping[str, Decimal], currency: str) -> Money:
    amount = sum((rates[m].amount * h for m, h in hours.items()), Decimal(0))
    return Money(round_money(amount, currency), currency)


def _prepayment_amount(contract: Contract, total_fee: Decimal) -> Decimal:
    p = contract.prepayment
    if p is None:
        return round_money(Decimal(0), contract.currency)
    if p.share is not None:
        return round_money(p.share * total_fee, contract.currency)
    assert p.amount is not None
    if p.amount.amount > total_fee:
        raise RequestError([f"prepayment: {p.amount} is more than the contract's fees ({total_fee})"])
    return round_money(p.amount.amount, contract.currency)


def _draw_down(contract: Contract, lines: tuple[Line, ...], prepay: Decimal, total_fee: Decimal) -> tuple[Line, ...]:
    """Each line's credit from the prepayment; the credits sum to the prepayment exactly
    and never exceed a line's fee (pro rata: see :func:`allocate`)."""
    if not prepay:
        return lines
    cur = contract.currency
    fees = [ln.fee.amount for ln in lines]
    if contract.prepayment is not None and contract.prepayment.drawdown is Drawdown.PRO_RATA:
        credits = allocate(prepay, fees, cur)
    else:
        credits, left = [], prepay
        for fee in fees:
            credits.append(min(left, fee))
            left -= credits[-1]
    return tuple(_with_drawdown(ln, Money(c, cur)) for ln, c in zip(lines, credits, strict=True))


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """``total`` split over ``weights`` in proportion, in whole minor units, summing to
    ``total`` exactly: each share rounded down, and the units left over given one each
    to the shares with the largest remainders (earliest first on ties). This splits a
    fixed amount; it is not a second rounding of computed lines. With ``total`` at most
    the weights' sum (whole minor units), no share exceeds its weight."""
    whole = sum(weights, Decimal(0))
    unit = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    exact = [total * w / whole if whole else Decimal(0) for w in weights]
    floors = [(x / unit).to_integral_value(rounding=ROUND_FLOOR) * unit for x in exact]
    left = int((total - sum(floors, Decimal(0))) / unit)
    order = sorted(range(len(weights)), key=lambda k: (floors[k] - exact[k], k))
    for k in order[:left]:
        floors[k] += unit
    return floors


def _with_drawdown(ln: Line, credit: Money) -> Line:
    return Line(ln.month, ln.start_s, ln.end_s, ln.gpu_hours, ln.fee, credit, ln.opex, ln.tco)


def _capex(contract: Contract, costs: CostBasis) -> Decimal:
    gpus = contract.gpus_by_model()
    return sum((round_money(costs.capex_per_gpu[m].amount * n, contract.currency) for m, n in gpus.items()), Decimal(0))


def _month_flows(contract: Contract, lines: tuple[Line, ...], prepay: Decimal, capex: Decimal) -> tuple[MonthFlow, ...]:
    zero = Decimal(0)
    flows = [MonthFlow(0, contract.start_s, zero, prepay, zero, zero, capex, prepay - capex, prepay - capex)]
    cumulative = prepay - capex
    for month in sorted({ln.month for ln in lines}):
        mine = [ln for ln in lines if ln.month == month]
        fee = sum((ln.fee.amount for ln in mine), zero)
        drawn = sum((ln.drawdown.amount for ln in mine), zero)
        opex = sum((ln.opex.amount for ln in mine), zero)
        net = fee - drawn - opex
        cumulative += net
        flows.append(MonthFlow(month, mine[0].start_s, fee, zero, drawn, opex, zero, net, cumulative))
    return tuple(flows)


def _assemble(  # noqa: PLR0917 - the parts of one analysis
    contract: Contract,
    costs: CostBasis,
    wacc: Decimal,
    market: tuple[MarketPrice, ...],
    lines: tuple[Line, ...],
    months: tuple[MonthFlow, ...],
    capex: Decimal,
    prepay: Decimal,
) -> DealAnalysis:
    cur = contract.currency
    zero = Decimal(0)
    total = sum((ln.fee.amount for ln in lines), zero)
    exit_s = contract.earliest_exit_s()
    before = sum((ln.fee.amount for ln in lines if ln.end_s <= exit_s), zero) if contract.take_or_pay else zero
    flows = [float(m.net) for m in months]
    irr = _irr(flows)
    gpus = sum(contract.gpus_by_model().values())
    annual_revenue, implied = _run_rate(contract, gpus)
    gpu_hours = sum((ln.gpu_hours for ln in lines), zero)
    effective = round_rate(total / gpu_hours, cur) if gpu_hours else zero
    return DealAnalysis(
        contract=contract,
        currency=cur,
        wacc=wacc,
        lines=lines,
        months=months,
        years=_years(lines),
        total_revenue=total,
        total_tco=sum((ln.tco.amount for ln in lines), zero),
        total_opex=sum((ln.opex.amount for ln in lines), zero),
        capex=capex,
        prepayment=prepay,
        npv=round_money(Decimal(repr(float(npf.npv(monthly_rate(wacc), flows)))), cur),
        irr_monthly=irr,
        irr_annual=None if irr is None else (1 + irr) ** 12 - 1,
        payback_month=next((m.month for m in months if m.cumulative >= 0), None),
        earliest_notice_s=contract.earliest_notice_s(),
        earliest_exit_s=exit_s,
        revenue_before_exit=before,
        revenue_at_risk=total - before,
        annual_revenue=annual_revenue,
        annual_tco=_annual_tco(contract, costs),
        gpus=gpus,
        implied_price_per_gpu_hour=implied,
        effective_price_per_gpu_hour=effective,
        comparisons=tuple(
            Comparison(m, float(implied / m.price.amount))
            for m in market
            if m.price.currency == cur and implied and m.model in contract.gpus_by_model()  # its own GPU model
        ),
    )


def _irr(flows: list[float]) -> float | None:
    """The monthly IRR, or ``None`` where there is none (all flows of one sign)."""
    if not (any(f < 0 for f in flows) and any(f > 0 for f in flows)):
        return None
    value = float(npf.irr(flows))
    return value if math.isfinite(value) else None


def _run_rate(contract: Contract, gpus: int) -> tuple[Decimal, Decimal]:
    """A full year's fees at full rate (no ramp), and the price per GPU-hour it implies:
    the monthly fee over (GPUs x 730.5 h), or the contract's rate."""
    cur = contract.currency
    if contract.monthly_fee is not None:
        fee = contract.monthly_fee.amount
        implied = round_rate(fee / (gpus * HOURS_PER_MONTH), cur) if gpus else Decimal(0)
        return round_money(fee * 12, cur), implied
    assert contract.price_per_gpu_hour is not None
    rate = contract.price_per_gpu_hour.amount
    return round_money(rate * gpus * HOURS_PER_YEAR, cur), rate


def _annual_tco(contract: Contract, costs: CostBasis) -> Decimal:
    gpus = contract.gpus_by_model()
    amount = sum((costs.tco_per_gpu_hour[m].amount * n * HOURS_PER_YEAR for m, n in gpus.items()), Decimal(0))
    return round_money(amount, contract.currency)


def _years(lines: tuple[Line, ...]) -> tuple[YearSummary, ...]:
    out: dict[int, tuple[Decimal, Decimal]] = {}
    for ln in lines:
        year = (ln.month - 1) // 12 + 1
        rev, tco = out.get(year, (Decimal(0), Decimal(0)))
        out[year] = (rev + ln.fee.amount, tco + ln.tco.amount)
    return tuple(YearSummary(y, rev, tco) for y, (rev, tco) in sorted(out.items()))
