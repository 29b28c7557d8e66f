"""A capacity contract as finance reads it: who, where, how many GPUs, for how long, and
on what money terms (a monthly fee with a ramp, or a rate per GPU-hour; prepayment;
termination notice after an initial period; take-or-pay or not).

A contract's months are *anniversary months* from its start: month 1 is
``[start, start + 1 month)``, the day of the month clamped to the month's length
(2026-01-31 + 1 month = 2026-02-28). The last month ends at the contract's end and
may be partial. The ramp, the initial period and the prepayment's draw-down count in
these months.

:func:`contract_problems` lists every problem, each naming the field;
:func:`checked` raises them together as a :class:`~neocloud.domain.errors.RequestError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from neocloud.domain.errors import RequestError
from neocloud.domain.money import Money, price_problems
from neocloud.economics.months import MAX_TERM_MONTHS, add_months, month_starts

#: A monthly fee of at most 100 billion (in the currency): 80x the largest disclosed
#: GPU contract ($1.25B/month, SpaceX-Anthropic [R50], 2026-05); a bound against typos.
MAX_MONTHLY_FEE = Decimal(100_000_000_000)
#: GPUs in one contract: ten times the million-GPU fleet the design aims at.
MAX_CONTRACT_GPUS = 10_000_000
#: Termination notice of at most ten years, in days.
MAX_NOTICE_DAYS = 3_652
#: Contracts start and end within [2000-01-01, 2200-01-01) UTC: a bound against typos
#: (year 20270) that keeps calendar arithmetic within what a datetime can hold.
EARLIEST_S = 946_684_800
LATEST_S = 7_258_118_400


class Drawdown(StrEnum):
    """How a prepayment is credited against the monthly fees."""

    #: Each fee line is reduced by the prepayment's share of the contract's revenue: the
    #: prepayment is used up exactly at the end of the term.
    PRO_RATA = "pro-rata"
    #: Fee lines are credited in full, first month first, until the prepayment is used up.
    FRONT = "front"


@dataclass(frozen=True, slots=True)
class Prepayment:
    """Cash the tenant pays at the start, credited against later fees.

    Give ``share`` (of the contract's total fee revenue, 0 < share <= 1; IREN-Microsoft
    prepaid 20% [R69], 2025-11) or ``amount``, not both."""

    share: Decimal | None = None
    amount: Money | None = None
    drawdown: Drawdown = Drawdown.PRO_RATA


@dataclass(frozen=True, slots=True)
class Tranche:
    """``gpus`` GPUs of ``model`` committed over ``[start_s, end_s)`` (seconds, UTC)."""

    model: str
    gpus: int
    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class Contract:
    """The terms of one contract. Exactly one of ``monthly_fee`` (a fee per anniversary
    month for the whole commitment, prorated by time in a partial last month) and
    ``price_per_gpu_hour`` (billed on the tranches' GPU-hours) is set.

    ``ramp``: fractions of the fee due in the first months (``(0.5, 0.5)``: half in
    months 1 and 2). ``notice_days``: notice the tenant must give to end the contract
    early (``None``: it cannot). ``initial_months``: months from the start before
    notice may be given. ``take_or_pay``: the tenant pays whether it uses the capacity
    or not (a confirmed, fixed-term commitment)."""

    tenant: str
    site: str
    tranches: tuple[Tranche, ...]
    monthly_fee: Money | None = None
    price_per_gpu_hour: Money | None = None
    ramp: tuple[Decimal, ...] = ()
    prepayment: Prepayment | None = None
    notice_days: int | None = None
    initial_months: int = 0
    take_or_pay: bool = True
    id: str = ""

    @property
    def start_s(self) -> int:
        return min(t.start_s for t in self.tranches)

    @property
    def end_s(self) -> int:
        return max(t.end_s for t in self.tranches)

    @property
    def currency(self) -> str:
        price = self.monthly_fee or self.price_per_gpu_hour
        return price.currency if price is not None else "USD"

    def gpus_by_model(self) -> dict[str, int]:
        """The most GPUs of each model committed at any one time."""
        out: dict[str, int] = {}
        for model in {t.model for t in self.tranches}:
            cuts = sorted({t.start_s for t in self.tranches if t.model == model})
            out[model] = max(self.gpus_at(model, c) for c in cuts)
        return out

    def gpus_at(self, model: str, t_s: int) -> int:
        return sum(t.gpus for t in self.tranches if t.model == model and t.start_s <= t_s < t.end_s)

    def earliest_notice_s(self) -> int | None:
        """The first instant notice may be given (``None``: the contract has no exit)."""
        if self.notice_days is None:
            return None
        return add_months(self.start_s, self.initial_months)

    def earliest_exit_s(self) -> int:
        """The first instant the contract can end: notice at the earliest date plus the
        notice period, or the end when there is no exit (or it falls after the end)."""
        return self.exit_from(self.start_s)

    def exit_from(self, now_s: int) -> int:
        """The earliest end when the tenant gives notice at ``now_s``, or at the first
        date notice may be given if that is later; the end when there is no exit."""
        notice = self.earliest_notice_s()
        if notice is None or self.notice_days is None:
            return self.end_s
        return min(self.end_s, max(notice, now_s) + self.notice_days * 86_400)


def whole_term(gpus: dict[str, int], start_s: int, end_s: int) -> tuple[Tranche, ...]:
    """Tranches committing ``gpus`` (per model) for the whole term, models in name order."""
    return tuple(Tranche(m, n, start_s, end_s) for m, n in sorted(gpus.items()))


def contract_problems(c: Contract) -> list[str]:
    """Every problem with ``c``, each naming the field (empty when it is valid)."""
    problems: list[str] = []
    if not c.tenant.strip():
        problems.append("tenant: must not be empty")
    problems += _tranche_problems(c.tranches)
    problems += _price_problems(c)
    problems += _ramp_problems(c.ramp)
    problems += _exit_problems(c)
    if c.prepayment is not None:
        problems += _prepayment_problems(c.prepayment, c.currency)
    if not problems and term_months(c) > MAX_TERM_MONTHS:
        problems.append(f"end: the term is more than {MAX_TERM_MONTHS} months ({MAX_TERM_MONTHS // 12} years)")
    if not problems and len(c.ramp) > term_months(c):
        problems.append(f"ramp: {len(c.ramp)} months of ramp in a {term_months(c)}-month term")
    return problems


def checked(c: Contract) -> Contract:
    """``c``, or :class:`RequestError` listing every problem."""
    problems = contract_problems(c)
    if problems:
        raise RequestError(problems)
    return c


def term_months(c: Contract) -> int:
    """Anniversary months from the start to the end, the last partial one included."""
    return len(month_starts(c.start_s, c.end_s))


def _tranche_problems(tranches: tuple[Tranche, ...]) -> list[str]:
    if not tranches:
        return ["gpus: give at least one GPU model and count"]
    problems = []
    for k, t in enumerate(tranches):
        where = f"gpus[{k}]" if len(tranches) > 1 else "gpus"
        if not t.model.strip():
            problems.append(f"{where}.model: must not be empty")
        if not 0 < t.gpus <= MAX_CONTRACT_GPUS:
            problems.append(f"{where}: {t.gpus:,} GPUs; give more than 0 and at most {MAX_CONTRACT_GPUS:,}")
        if t.start_s >= t.end_s:
            problems.append("start: must be before end")
        for name, at in (("start", t.start_s), ("end", t.end_s)):
            if not EARLIEST_S <= at <= LATEST_S:
                problems.append(f"{name}: must be from 2000-01-01 to 2200-01-01 (UTC)")
    return sorted(set(problems), key=problems.index)


def _price_problems(c: Contract) -> list[str]:
    if (c.monthly_fee is None) == (c.price_per_gpu_hour is None):
        return ["monthly_fee, price_per_gpu_hour: give exactly one of them"]
    if c.price_per_gpu_hour is not None:
        return price_problems(c.price_per_gpu_hour)
    fee = c.monthly_fee
    assert fee is not None
    if not Decimal(0) < fee.amount <= MAX_MONTHLY_FEE:
        return [f"monthly_fee: {fee} is out of range; give more than 0 and at most {MAX_MONTHLY_FEE:,}"]
    exponent = fee.amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > 2:
        return [f"monthly_fee: {fee.amount} has more than 2 decimal places"]
    return []


def _ramp_problems(ramp: tuple[Decimal, ...]) -> list[str]:
    return [
        f"ramp[{k}]: {f} is not a fraction of the fee from 0 to 1"
        for k, f in enumerate(ramp)
        if not (f.is_finite() and Decimal(0) <= f <= Decimal(1))
    ]


def _exit_problems(c: Contract) -> list[str]:
    problems = []
    if c.notice_days is not None and not 0 <= c.notice_days <= MAX_NOTICE_DAYS:
        problems.append(f"notice_days: {c.notice_days} is not from 0 to {MAX_NOTICE_DAYS}")
    if not 0 <= c.initial_months <= MAX_TERM_MONTHS:
        problems.append(f"initial_months: {c.initial_months} is not from 0 to {MAX_TERM_MONTHS}")
    if c.initial_months and c.notice_days is None:
        problems.append("initial_months: only with notice_days (a contract without notice has no exit)")
    return problems


def _prepayment_problems(p: Prepayment, currency: str) -> list[str]:
    if (p.share is None) == (p.amount is None):
        return ["prepayment: give a share of the contract's revenue or an amount, not both"]
    if p.share is not None and not (p.share.is_finite() and Decimal(0) < p.share <= Decimal(1)):
        return [f"prepayment: share {p.share} is not above 0 and at most 1"]
    if p.amount is not None:
        if p.amount.currency != currency:
            return [f"prepayment: {p.amount} is not in the contract's currency {currency}"]
        if p.amount.amount <= 0:
            return ["prepayment: the amount must be more than 0"]
    return []
