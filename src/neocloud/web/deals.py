"""``/deals``: the operator's deal analysis (a form, the cash-flow chart, the figures)
and the book's concentration table. Operator only: a tenant gets 403. Also the
standalone HTML page ``neocloud plan deal --html`` writes (Chart.js inlined).

The chart and table builders are pure view models over the economics values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from neocloud.domain.clock import from_s, to_s
from neocloud.domain.counts import model_counts, whole_number
from neocloud.domain.errors import DomainError, RequestError
from neocloud.domain.money import Money, percent, short_amount
from neocloud.economics.book import Book
from neocloud.economics.contract import EARLIEST_S, LATEST_S, MAX_CONTRACT_GPUS
from neocloud.economics.deal import DealAnalysis
from neocloud.economics.months import add_months
from neocloud.services.container import Services
from neocloud.services.deals import DealReport, DealTerms
from neocloud.web.routes import _page, _services, signed_in, templates

router = APIRouter(include_in_schema=False)
DAY_S = 86_400
COLORS = {"fee": "#2f6fdf", "prepayment": "#17a398", "opex": "#e0803a", "capex": "#c23b3b", "cumulative": "#36425e"}


@router.get("/deals", response_class=HTMLResponse)
def deals_page(
    request: Request,
    *,
    site: str | None = None,
    tenant: str = "proposed",
    gpus: str = "",
    monthly_fee: str = "",
    price: str = "",
    start: str = "",
    end: str = "",
    ramp: str = "",
    notice_days: str = "",
    initial_months: str = "",
) -> HTMLResponse:
    """A deal's analysis (the form's fields; by default the first site, whole, for a year
    from today at the operator's list price) and the book with it."""
    who = signed_in(request)
    if not who.is_operator:
        return _page(request, "forbidden.html", who, status=403, what="Deal analysis")
    svc = _services(request)
    fleet = svc.leasing.fleet()
    start = start or _day(to_s(svc.clock.now()) // DAY_S * DAY_S)
    if site is None and not gpus:  # open on a deal that fits, not on a full site
        site, gpus = _roomiest(svc, start, end)
    form = {
        "site": site or (fleet.sites[0].name if fleet.sites else ""),
        "tenant": tenant,
        "gpus": gpus,
        "monthly_fee": monthly_fee,
        "price": price or ("" if monthly_fee else str(svc.leasing.terms.price_per_gpu_hour.amount)),
        "start": start,
        "end": end,
        "ramp": ramp,
        "notice_days": notice_days,
        "initial_months": initial_months,
    }
    report, problems = None, []
    try:
        report = svc.deals.analyse(
            terms_from_form(form, svc.leasing.terms.price_per_gpu_hour.currency), fleet, with_book=True
        )
    except RequestError as e:
        problems = list(e.problems)
    except DomainError as e:
        problems = [str(e)]
    context: dict[str, Any] = {"form": form, "sites": [s.name for s in fleet.sites], "problems": problems}
    if report is not None:
        context.update(deal_context(report))
    return _page(request, "deals.html", who, status=422 if problems else 200, **context)


def _roomiest(svc: Services, start: str, end: str) -> tuple[str | None, str]:
    """The site and GPU model with the most GPUs free over the default term, and that
    count (``MODEL=N``); ``(None, "")`` (the first site, whole) where nothing is free."""
    problems: list[str] = []
    start_s = _instant("start", start, problems)
    end_s = _instant("end", end, problems) if end else add_months(start_s or 0, 12)
    if problems or start_s is None or end_s is None or end_s <= start_s:
        return None, ""
    best: tuple[int, str, str] = (0, "", "")
    for s in svc.leasing.fleet().sites:
        for m in svc.leasing.availability(start_s, end_s, site=s.name):
            best = max(best, (m.free_gpus, s.name, m.model), key=lambda b: b[0])
    free, site, model = best
    return (site, f"{model}={free}") if free else (None, "")


def terms_from_form(form: dict[str, str], currency: str) -> DealTerms:
    """The deal the form asks for; :class:`RequestError` naming each bad field."""
    problems: list[str] = []
    start_s = _instant("start", form["start"], problems)
    end_s = _instant("end", form["end"], problems) if form["end"] else add_months(start_s or 0, 12)
    terms = DealTerms(
        tenant=form["tenant"].strip(),
        site=form["site"] or None,
        start_s=start_s or 0,
        end_s=end_s or 0,
        gpus=_gpus(form["gpus"], problems) if form["gpus"].strip() else None,
        monthly_fee=_money("monthly_fee", form["monthly_fee"], currency, problems),
        price_per_gpu_hour=_money("price", form["price"], currency, problems),
        ramp=tuple(_decimal("ramp", x, problems) for x in form["ramp"].split(",") if x.strip()),
        notice_days=_int("notice_days", form["notice_days"], problems),
        initial_months=_int("initial_months", form["initial_months"], problems) or 0,
    )
    if problems:
        raise RequestError(problems)
    return terms


def deal_context(report: DealReport) -> dict[str, Any]:
    """What deals.html and the standalone page show of ``report``."""
    a = report.analysis
    return {
        "a": a,
        "report": report,
        "chart": cash_flow_chart(a),
        "concentration": None if report.book is None else concentration_rows(report.book),
        "book": report.book,
        "money": money,
        "pct": pct,
        "day": _day,
    }


def cash_flow_chart(a: DealAnalysis) -> dict[str, Any]:
    """Monthly cash flows as stacked bars (fees in cash, prepayment, capex as an
    outflow), the operating cost as a line (visible beside fees of millions) and the
    cumulative cash as a line, in millions of the currency."""
    labels = ["start"] + [f"m{m.month}" for m in a.months[1:]]

    def series(values: list[Decimal]) -> list[float]:
        return [round(float(v) / 1e6, 3) for v in values]

    months = a.months
    bars = [
        ("fees in cash", COLORS["fee"], [m.fee - m.drawdown for m in months]),
        ("prepayment received", COLORS["prepayment"], [m.prepayment_in for m in months]),
        ("capex", COLORS["capex"], [-m.capex for m in months]),
    ]
    datasets: list[dict[str, Any]] = [
        {"label": label, "data": series(values), "backgroundColor": color, "stack": "flows", "order": 2}
        for label, color, values in bars
        if any(values)
    ]
    if any(m.opex for m in months):  # a line: as a bar it is a sliver beside fees of $M
        datasets.append(
            {
                "type": "line",
                "label": "operating cost (line, per month)",
                "data": series([-m.opex for m in months]),
                "borderColor": COLORS["opex"],
                "backgroundColor": COLORS["opex"],
                "pointRadius": 2,
                "borderWidth": 3,
                "stack": "opex",
                "order": 0,
            }
        )
    datasets.append(
        {
            "type": "line",
            "label": "cumulative cash",
            "data": series([m.cumulative for m in months]),
            "borderColor": COLORS["cumulative"],
            "backgroundColor": COLORS["cumulative"],
            "pointRadius": 0,
            "borderWidth": 2,
            "stack": "cumulative",
            "order": 1,
        }
    )
    return {"type": "bar", "stacked": True, "labels": labels, "datasets": datasets, "unit": f"M {a.currency}"}


def concentration_rows(b: Book) -> list[dict[str, Any]]:
    """One row per tenant, largest backlog first, with the book's total last."""
    rows = [
        {
            "tenant": r.tenant,
            "contracts": r.contracts,
            "revenue": r.revenue,
            "backlog": r.backlog,
            "share": r.backlog_share,
            "at_risk": r.revenue_at_risk,
            "term": r.remaining_term_years,
        }
        for r in b.tenants
    ]
    rows.append(
        {
            "tenant": "total",
            "contracts": sum(r.contracts for r in b.tenants),
            "revenue": b.revenue,
            "backlog": b.backlog,
            "share": 1.0 if b.backlog else 0.0,
            "at_risk": b.revenue_at_risk,
            "term": b.remaining_term_years,
        }
    )
    return rows


def deal_page_html(report: DealReport) -> str:
    """A standalone HTML page of ``report``: its figures and the cash-flow chart, with
    Chart.js and the chart code inlined (opens without a server or a network)."""
    static = resources.files("neocloud.web") / "static"
    return templates.get_template("deal_report.html").render(
        chart_js_source=(static / "vendor" / "chartjs-4.6.1" / "chart.umd.min.js").read_text(encoding="utf-8"),
        dashboard_js_source=(static / "dashboard.js").read_text(encoding="utf-8"),
        style_source=(static / "style.css").read_text(encoding="utf-8"),
        **deal_context(report),
    )


def money(amount: Decimal) -> str:
    """``44.80B``, ``9.31M``, ``191.31K``, ``950.00``: domain.money.short_amount."""
    return short_amount(amount)


def pct(x: float | None) -> str:
    return percent(x)


def _day(t_s: int | None) -> str:
    return "never" if t_s is None else from_s(t_s).strftime("%Y-%m-%d")


def _instant(field: str, text: str, problems: list[str]) -> int | None:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{field}: {text[:40]!r} is not a date like 2027-01-04")
        return None
    at = to_s(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    if not EARLIEST_S <= at <= LATEST_S:  # before anything derives a date from it (a default end)
        problems.append(f"{field}: must be from 2000-01-01 to 2200-01-01 (UTC)")
        return None
    return at


def _gpus(text: str, problems: list[str]) -> dict[str, int] | None:
    out, found = model_counts(text, "gpus", max_count=MAX_CONTRACT_GPUS)
    problems += found
    return None if found else out


def _decimal(field: str, text: str, problems: list[str]) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        problems.append(f"{field}: {text[:40]!r} is not a number")
        return Decimal(0)
    if not value.is_finite():
        problems.append(f"{field}: {text[:40]!r} is not a finite number")
        return Decimal(0)
    return value


def _money(field: str, text: str, currency: str, problems: list[str]) -> Money | None:
    return Money(_decimal(field, text, problems), currency) if text.strip() else None


def _int(field: str, text: str, problems: list[str]) -> int | None:
    if not text.strip():
        return None
    value = whole_number(text)
    if value is None or value >= 10**6:
        problems.append(f"{field}: {text[:40]!r} is not a whole number of at most 6 digits")
        return None
    return value
