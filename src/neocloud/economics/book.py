"""The book of contracts as an investor reads a neocloud's filings (economics.md §3:
CoreWeave reports its backlog of remaining contracted revenue, its take-or-pay share
and its customer concentration).

Definitions, for a book read at ``now``:

* **revenue** of a tenant over a period ``[from, to)``: its contracts' fee lines in
  the period (lines are cut at the period's bounds, so nothing is prorated twice).
* **backlog**: contracted fees from ``now`` to each contract's end.
* **weighted remaining term**: the backlog-weighted mean of (end - now), in years of
  365.25 days.
* **take-or-pay share**: the share of the backlog under take-or-pay contracts.
* **top-1 share** and **HHI**: of the backlog (and the top-1 of the period's revenue).
  The HHI is on the 0-10,000 scale: the sum of squared shares in percent (one tenant:
  10,000; ten equal tenants: 1,000; US merger guidelines call above 1,800 highly
  concentrated).
* **revenue at risk** of a contract: its backlog after the earliest end the tenant can
  reach by giving notice now (or at the first date it may); all its backlog when it is
  not take-or-pay (nothing obliges the tenant to keep paying).
* **per site**: each contract's committed GPUs by model, to whom and until when.

Money follows :mod:`neocloud.economics.deal`: lines rounded once to the minor unit;
every figure here is a sum of lines, so tenant rows sum to the book's totals exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from neocloud.domain.errors import RequestError
from neocloud.economics.contract import Contract, checked
from neocloud.economics.deal import schedule

YEAR_S = Decimal(365.25 * 86_400)
#: The HHI's scale: shares in percent, squared and summed.
HHI_SCALE = 10_000


@dataclass(frozen=True, slots=True)
class TenantRow:
    tenant: str
    contracts: int
    revenue: Decimal
    backlog: Decimal
    take_or_pay_backlog: Decimal
    revenue_at_risk: Decimal
    remaining_term_years: float
    backlog_share: float
    revenue_share: float


@dataclass(frozen=True, slots=True)
class Commitment:
    """``gpus`` of ``model`` at ``site`` committed to ``tenant`` from ``start_s`` until ``end_s``."""

    site: str
    tenant: str
    contract: str
    model: str
    gpus: int
    start_s: int
    end_s: int
    take_or_pay: bool


@dataclass(frozen=True, slots=True)
class Book:
    now_s: int
    period: tuple[int, int]
    currency: str
    tenants: tuple[TenantRow, ...]
    revenue: Decimal
    backlog: Decimal
    take_or_pay_share: float
    remaining_term_years: float
    revenue_at_risk: Decimal
    top_tenant: str | None
    top1_backlog_share: float
    top1_revenue_share: float
    hhi: float
    commitments: tuple[Commitment, ...]


@dataclass(frozen=True, slots=True)
class _Figures:
    revenue: Decimal
    backlog: Decimal
    at_risk: Decimal


def book(contracts: Iterable[Contract], now_s: int, period: tuple[int, int]) -> Book:
    """The book of ``contracts`` read at ``now_s``, with revenue over ``period``.

    Contracts are validated (:class:`RequestError` on the first bad one, naming it);
    they must share one currency. Contracts that ended before ``now_s`` count in the
    period's revenue but hold no backlog."""
    items = list(contracts)
    _check(items, period)
    currency = items[0].currency if items else "USD"
    figures = [_figures(c, now_s, period) for c in items]
    rows = _tenant_rows(items, figures, now_s)
    backlog = sum((f.backlog for f in figures), Decimal(0))
    revenue = sum((f.revenue for f in figures), Decimal(0))
    top = rows[0] if rows else None
    return Book(
        now_s=now_s,
        period=period,
        currency=currency,
        tenants=rows,
        revenue=revenue,
        backlog=backlog,
        take_or_pay_share=_share(sum((r.take_or_pay_backlog for r in rows), Decimal(0)), backlog),
        remaining_term_years=_weighted_term(items, figures, now_s),
        revenue_at_risk=sum((f.at_risk for f in figures), Decimal(0)),
        top_tenant=top.tenant if top else None,
        top1_backlog_share=top.backlog_share if top else 0.0,
        top1_revenue_share=max((r.revenue_share for r in rows), default=0.0),
        hhi=hhi(r.backlog for r in rows),
        commitments=_commitments(items, now_s),
    )


def hhi(amounts: Iterable[Decimal]) -> float:
    """The Herfindahl-Hirschman index of ``amounts`` on the 0-10,000 scale (0 when empty)."""
    values = [a for a in amounts if a > 0]
    total = sum(values, Decimal(0))
    if not total:
        return 0.0
    return float(sum(((100 * a / total) ** 2 for a in values), Decimal(0)))


# -- helpers, in call order ---------------------------------------------------------


def _check(items: list[Contract], period: tuple[int, int]) -> None:
    if period[0] >= period[1]:
        raise RequestError(["period: its start must be before its end"])
    for c in items:
        try:
            checked(c)
        except RequestError as e:
            raise RequestError([f"contract {c.id or c.tenant}: {p}" for p in e.problems]) from None
    currencies = sorted({c.currency for c in items})
    if len(currencies) > 1:
        raise RequestError([f"contracts: one currency per book; found {', '.join(currencies)}"])


def _figures(c: Contract, now_s: int, period: tuple[int, int]) -> _Figures:
    exit_s = c.exit_from(now_s)
    lines = schedule(c, cuts=(now_s, exit_s, *period))
    zero = Decimal(0)
    revenue = sum((ln.fee.amount for ln in lines if period[0] <= ln.start_s and ln.end_s <= period[1]), zero)
    backlog = sum((ln.fee.amount for ln in lines if ln.start_s >= now_s), zero)
    risk_from = now_s if not c.take_or_pay else max(now_s, exit_s)
    at_risk = sum((ln.fee.amount for ln in lines if ln.start_s >= risk_from), zero)
    return _Figures(revenue, backlog, at_risk)


def _tenant_rows(items: list[Contract], figures: list[_Figures], now_s: int) -> tuple[TenantRow, ...]:
    backlog = sum((f.backlog for f in figures), Decimal(0))
    revenue = sum((f.revenue for f in figures), Decimal(0))
    by_tenant: dict[str, list[tuple[Contract, _Figures]]] = {}
    for c, f in zip(items, figures, strict=True):  # one pass: a rescan per tenant was quadratic
        by_tenant.setdefault(c.tenant, []).append((c, f))
    rows = []
    for tenant, mine in sorted(by_tenant.items()):
        own = sum((f.backlog for _, f in mine), Decimal(0))
        rows.append(
            TenantRow(
                tenant=tenant,
                contracts=len(mine),
                revenue=sum((f.revenue for _, f in mine), Decimal(0)),
                backlog=own,
                take_or_pay_backlog=sum((f.backlog for c, f in mine if c.take_or_pay), Decimal(0)),
                revenue_at_risk=sum((f.at_risk for _, f in mine), Decimal(0)),
                remaining_term_years=_weighted_term([c for c, _ in mine], [f for _, f in mine], now_s),
                backlog_share=_share(own, backlog),
                revenue_share=_share(sum((f.revenue for _, f in mine), Decimal(0)), revenue),
            )
        )
    return tuple(sorted(rows, key=lambda r: (-r.backlog, -r.revenue, r.tenant)))


def _weighted_term(items: list[Contract], figures: list[_Figures], now_s: int) -> float:
    total = sum((f.backlog for f in figures), Decimal(0))
    if not total:
        return 0.0
    weighted = sum((f.backlog * max(0, c.end_s - now_s) for c, f in zip(items, figures, strict=True)), Decimal(0))
    return float(weighted / total / YEAR_S)


def _share(part: Decimal, whole: Decimal) -> float:
    return float(part / whole) if whole else 0.0


def _commitments(items: list[Contract], now_s: int) -> tuple[Commitment, ...]:
    out = [
        Commitment(c.site, c.tenant, c.id, tr.model, tr.gpus, tr.start_s, tr.end_s, c.take_or_pay)
        for c in items
        for tr in c.tranches
        if tr.end_s > now_s
    ]
    return tuple(sorted(out, key=lambda m: (m.site, m.start_s, m.tenant, m.model)))
