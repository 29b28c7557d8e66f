"""``neocloud plan deal`` (what a proposed contract is worth) and ``neocloud plan book``
(how concentrated the ledger's leases make the operator's revenue)."""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import (
    EXIT_BAD_INPUT,
    _is_terminal,
    bad_input,
    db_url,
    err,
    human_width,
    parse_time,
    stdout_console,
)
from neocloud.domain.clock import ManualClock, from_s, to_s
from neocloud.domain.counts import model_counts
from neocloud.domain.fleet import Fleet
from neocloud.domain.money import Money, percent, short_amount
from neocloud.domain.presets import preset as make_preset
from neocloud.domain.spec import build_fleet
from neocloud.economics.book import Book
from neocloud.economics.contract import MAX_CONTRACT_GPUS, Drawdown, Prepayment
from neocloud.services.deals import DealReport, DealService, DealTerms, analyse_deal
from neocloud.services.demo import build_demo

out = stdout_console()
BOOKS = ("none", "ledger", "demo")


@dataclass(frozen=True, slots=True)
class Seed:
    """A worked example: every option of ``plan deal`` it sets (explicit options win)."""

    preset: str
    tenant: str
    monthly_fee: str
    start: str
    end: str
    ramp: str
    notice_days: int
    initial_months: int
    book: str
    note: str


#: The seed deal (docs/economics.md, "Deal analysis"): all of Colossus 1 for $1.25B a
#: month through May 2029, a reduced fee in the first two months, 90 days' notice after
#: an initial three months [R48][R50] (2026-05/06). The ramp's size is not disclosed: we
#: assume half the fee in each of the two months.
SEEDS = {
    "colossus-1": Seed(
        preset="colossus-1",
        tenant="anthropic",
        monthly_fee="1.25B",
        start="2026-05-06",
        end="2029-06-01",
        ramp="0.5,0.5",
        notice_days=90,
        initial_months=3,
        book="demo",
        note="SpaceX-Anthropic S-1 terms [R50]; a 50% ramp for 2 months assumed",
    )
}

_SCALE = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_AMOUNT = re.compile(r"^\s*(?:([A-Z]{3})\s+)?([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([KMBT]?)\s*(?:([A-Z]{3}))?\s*$")


def deal(
    seed: Annotated[str | None, typer.Option("--seed", help=f"A worked example: {', '.join(SEEDS)}.")] = None,
    preset: Annotated[str | None, typer.Option("--preset", help="Analyse on a preset's site.")] = None,
    fleet: Annotated[Path | None, typer.Option("--fleet", help="Analyse on a site of this fleet file.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="The site (needed when the fleet has several).")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Who signs.")] = None,
    gpus: Annotated[
        str | None, typer.Option("--gpus", help="GPUs per model, MODEL=N[,MODEL=N] (default: the whole site).")
    ] = None,
    monthly_fee: Annotated[str | None, typer.Option("--monthly-fee", help="Per month: 1.25B, 900M USD.")] = None,
    price: Annotated[str | None, typer.Option("--price-per-gpu-hour", help="Instead of a monthly fee.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="Start (YYYY-MM-DD or ISO, UTC).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="End, exclusive: through May 2029 is 2029-06-01.")] = None,
    ramp: Annotated[str | None, typer.Option("--ramp", help="Fee fractions of the first months: 0.5,0.5.")] = None,
    notice_days: Annotated[int | None, typer.Option("--notice-days", help="Notice to end early.")] = None,
    initial_months: Annotated[int | None, typer.Option("--initial-months", help="Months before notice.")] = None,
    prepay: Annotated[str | None, typer.Option("--prepay", help="A share (20%, 0.2) or an amount (500M).")] = None,
    drawdown: Annotated[Drawdown, typer.Option("--drawdown", help="How the prepayment is credited.")] = (
        Drawdown.PRO_RATA
    ),
    no_take_or_pay: Annotated[bool, typer.Option("--no-take-or-pay", help="Fees depend on use.")] = False,
    wacc: Annotated[str | None, typer.Option("--wacc", help="Annual WACC, 0.10 or 10% (default: cost model).")] = None,
    assumptions: Annotated[Path | None, typer.Option("--assumptions", help="Cost override file (TOML).")] = None,
    book: Annotated[str | None, typer.Option("--book", help="Book to add it to: none, ledger (--db), demo.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL, for --book ledger or a ledger site.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON (as the API).")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML page with the cash flows.")] = None,
) -> None:
    """What a proposed contract is worth: cash flows, NPV, IRR, payback, earliest exit,
    revenue at risk, annual revenue against TCO, and the price per GPU-hour it implies."""
    s = _seed(seed)
    chosen_book = book or (s.book if s else ("ledger" if preset is None and fleet is None else "none"))
    if chosen_book not in BOOKS:
        _fail(f"--book {chosen_book!r}: one of {', '.join(BOOKS)}")
    start_s = to_s(parse_time("--start", _need("--start", start or (s.start if s else None))))
    terms = DealTerms(
        tenant=_need("--tenant", tenant or (s.tenant if s else None)),
        site=site,
        start_s=start_s,
        end_s=to_s(parse_time("--end", _need("--end", end or (s.end if s else None)))),
        gpus=None if gpus is None else _gpus(gpus),
        monthly_fee=_amount("--monthly-fee", monthly_fee or (s.monthly_fee if s and price is None else None)),
        price_per_gpu_hour=_amount("--price-per-gpu-hour", price),
        ramp=_fractions("--ramp", ramp if ramp is not None else (s.ramp if s else "")),
        prepayment=_prepayment(prepay, drawdown),
        notice_days=notice_days if notice_days is not None else (s.notice_days if s else None),
        initial_months=initial_months if initial_months is not None else (s.initial_months if s else 0),
        take_or_pay=not no_take_or_pay,
        wacc=None if wacc is None else _rate("--wacc", wacc),
    )
    with bad_input(), _working("analysing the deal"):
        report = _analyse(terms, preset or (s.preset if s else None), fleet, chosen_book, db, assumptions)
        page = None if html is None else _html(report)
    if html is not None and page is not None:
        with bad_input():
            html.write_text(page, encoding="utf-8")
    if as_json:
        from neocloud.api.schemas_deals import DealOut  # the API's shape; loaded only for --json

        sys.stdout.write(DealOut.of(report).model_dump_json(indent=2) + "\n")
        return
    _print_deal(report, s.note if s else None)
    if html is not None:
        err.print(f"wrote {html}", highlight=False)


def book(
    start: Annotated[str | None, typer.Option("--from", help="Revenue period start (default: now).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Revenue period end, exclusive (default: a year on).")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: $NEOCLOUD_DB).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the book as JSON (as the API).")] = False,
) -> None:
    """The book of the ledger's live leases as an investor reads it: revenue and backlog
    by tenant, weighted remaining term, take-or-pay share, top-1 share, HHI, revenue at
    risk, and each site's committed GPUs, to whom and until when."""
    start_s = None if start is None else to_s(parse_time("--from", start))
    end_s = None if end is None else to_s(parse_time("--to", end))
    with bad_input(), _working("reading the book"):
        services = bootstrap.services(db_url(db))
        result = services.deals.book(start_s=start_s, end_s=end_s)
    if as_json:
        from neocloud.api.schemas_deals import BookOut  # the API's shape; loaded only for --json

        sys.stdout.write(BookOut.of(result).model_dump_json(indent=2) + "\n")
        return
    _print_book(result)


# -- the analysis ------------------------------------------------------------------------


def _analyse(
    terms: DealTerms, preset: str | None, fleet_file: Path | None, book: str, db: str | None, costs: Path | None
) -> DealReport:
    cost_source = bootstrap.deal_costs(costs)
    if book == "demo":
        demo = bootstrap.in_memory(ManualClock(from_s(terms.start_s)))
        build_demo(demo)
        service = DealService(demo.leasing, cost_source)
        report = service.analyse(terms, _fleet(preset, fleet_file, db), with_book=True)
        return replace(report, book_label="the demo's leases and this deal")
    if book == "ledger":
        service = DealService(bootstrap.leasing_service(db_url(db)), cost_source)
        return service.analyse(terms, _fleet(preset, fleet_file, db), with_book=True)
    return analyse_deal(terms, _fleet(preset, fleet_file, db), cost_source)


def _fleet(preset: str | None, fleet_file: Path | None, db: str | None) -> Fleet:
    if preset is not None and fleet_file is not None:
        _fail("--preset, --fleet: give one of them")
    if preset is not None:
        return build_fleet(make_preset(preset))
    if fleet_file is not None:
        return bootstrap.fleet_files().load_fleet(fleet_file)
    return bootstrap.leasing_service(db_url(db)).fleet()


def _html(report: DealReport) -> str:
    from neocloud.web.deals import deal_page_html

    return deal_page_html(report)


@contextmanager
def _working(what: str) -> Iterator[None]:
    """A spinner on a terminal's stderr; nothing when piped."""
    if _is_terminal(sys.stderr):
        with err.status(f"{what}..."):
            yield
    else:
        yield


# -- options -----------------------------------------------------------------------------


def _seed(name: str | None) -> Seed | None:
    if name is None:
        return None
    if name not in SEEDS:
        _fail(f"--seed {name!r}: unknown; available: {', '.join(SEEDS)}")
    return SEEDS[name]


def _need(option: str, value: str | None) -> str:
    if value is None:
        _fail(f"{option}: required (or give --seed)")
    return value


def _gpus(text: str) -> dict[str, int]:
    out, problems = model_counts(text, "--gpus", max_count=MAX_CONTRACT_GPUS)
    if problems:
        _fail("; ".join(problems) + " (like H100=1024,GB200=72)")
    return out


def _amount(option: str, text: str | None) -> Money | None:
    """``1.25B``, ``900M USD``, ``USD 2.35``, ``1250000000``: an amount with an optional scale and currency."""
    if text is None:
        return None
    found = _AMOUNT.match(text.upper())
    if found is None or (found[1] and found[4]):
        _fail(f"{option} {text!r}: expected an amount like 1.25B, 900M USD or 2.35")
    number = Decimal(found[2].replace("_", "").replace(",", "")) * _SCALE[found[3]]
    return Money(number, found[1] or found[4] or "USD")


def _fractions(option: str, text: str) -> tuple[Decimal, ...]:
    if not text.strip():
        return ()
    try:
        return tuple(Decimal(x.strip()) for x in text.split(","))
    except InvalidOperation:
        _fail(f"{option} {text!r}: expected fractions of the fee, like 0.5,0.5")


def _rate(option: str, text: str) -> Decimal:
    value = text.strip()
    try:
        return Decimal(value[:-1]) / 100 if value.endswith("%") else Decimal(value)
    except InvalidOperation:
        _fail(f"{option} {text!r}: expected a rate like 0.10 or 10%")


def _prepayment(text: str | None, drawdown: Drawdown) -> Prepayment | None:
    if text is None:
        return None
    value = text.strip()
    if value.endswith("%") or re.fullmatch(r"0?\.[0-9]+|1(\.0*)?", value):
        return Prepayment(share=_rate("--prepay", value), drawdown=drawdown)
    return Prepayment(amount=_amount("--prepay", value), drawdown=drawdown)


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error[/]: {message}", highlight=False, soft_wrap=True, markup=True)
    raise typer.Exit(EXIT_BAD_INPUT)


# -- human output (80 columns) -------------------------------------------------------


def money(amount: Decimal) -> str:
    """``44.80B``, ``9.31M``, ``191.31K``, ``950.00``: domain.money.short_amount."""
    return short_amount(amount)


def _pct(x: float | None) -> str:
    return percent(x)


def _day(t_s: int | None) -> str:
    return "never" if t_s is None else from_s(t_s).strftime("%Y-%m-%d")


def _print_deal(report: DealReport, note: str | None) -> None:
    a, c = report.analysis, report.analysis.contract
    cur = a.currency
    gpus = ", ".join(f"{n:,} {m}" for m, n in sorted(c.gpus_by_model().items(), key=lambda kv: -kv[1]))
    t = Table(box=box.SIMPLE, show_header=False, title=f"deal: {c.tenant} on {c.site} ({cur})", title_justify="left")
    t.add_column("what", style="bold", max_width=28)
    t.add_column("value", max_width=46)
    for label, value in [
        ("term (end exclusive)", f"{_day(c.start_s)} to {_day(c.end_s)}"),
        ("GPUs", f"{a.gpus:,}: {gpus}"),
        ("revenue, whole term", money(a.total_revenue)),
        ("annual revenue (run rate)", money(a.annual_revenue)),
        ("annual TCO (cost model)", money(a.annual_tco)),
        ("gross margin (run rate)", _pct(a.gross_margin)),
        ("capex at the start", money(a.capex)),
        *((("prepayment at the start", money(a.prepayment)),) if a.prepayment else ()),
        (f"NPV at WACC {100 * float(a.wacc):.2f}%", money(a.npv)),
        ("IRR (annualised)", _pct(a.irr_annual)),
        ("payback", "never" if a.payback_month is None else f"month {a.payback_month}"),
        ("earliest notice / exit", f"{_day(a.earliest_notice_s)} / {_day(a.earliest_exit_s)}"),
        ("revenue at risk (exit)", f"{money(a.revenue_at_risk)} of {money(a.total_revenue)}"),
        (
            "implied price per GPU-hour",
            f"{a.implied_price_per_gpu_hour} (term average {a.effective_price_per_gpu_hour})",
        ),
        *(
            (f"  vs {m.market.label}", f"x{m.ratio:.2f} ({m.market.price.amount}, {m.market.source})")
            for m in a.comparisons
        ),
    ]:
        t.add_row(label, value)
    if report.book is not None:
        b = report.book
        t.add_row("top-1 share of the backlog", f"{_pct(b.top1_backlog_share)} ({b.top_tenant})")
        t.add_row("HHI of the backlog", f"{b.hhi:,.0f} of 10,000")
        t.add_row("book", report.book_label)
    out.print(t)
    _print_years(report)
    out.print(f"costs: {report.costs.source}; monthly flows (docs/economics.md)", highlight=False)
    if note:
        out.print(f"seed: {note}", highlight=False, soft_wrap=True)
    for warning in report.warnings:
        err.print(f"[yellow]warning[/]: {warning}", highlight=False, soft_wrap=True)


def _print_years(report: DealReport) -> None:
    t = Table("year", "revenue", "TCO", "gross margin", box=box.SIMPLE, title="by contract year", title_justify="left")
    for y in report.analysis.years:
        t.add_row(str(y.year), money(y.revenue), money(y.tco), money(y.margin))
    out.print(t)


def _print_book(b: Book) -> None:
    head = (
        f"book at {_day(b.now_s)} ({b.currency}): backlog {money(b.backlog)}, "
        f"weighted term {b.remaining_term_years:.2f} y, take-or-pay {_pct(b.take_or_pay_share)}, "
        f"top-1 {_pct(b.top1_backlog_share)} ({b.top_tenant or 'none'}), HHI {b.hhi:,.0f} of 10,000"
    )
    width = human_width(out)
    out.print(textwrap.fill(head, width=width), highlight=False, markup=False)
    t = Table("tenant", "revenue", "backlog", "share", "at risk", "term y", box=box.SIMPLE)
    t.title = f"by tenant (revenue {_day(b.period[0])} to {_day(b.period[1])})"
    t.title_justify = "left"
    for r in b.tenants:
        t.add_row(
            r.tenant,
            money(r.revenue),
            money(r.backlog),
            _pct(r.backlog_share),
            money(r.revenue_at_risk),
            f"{r.remaining_term_years:.2f}",
        )
    out.print(t, width=width)
    s = Table("site", "tenant", "GPUs", "model", "until", "firm", box=box.SIMPLE, title="committed capacity")
    s.title_justify = "left"
    for m in b.commitments:
        s.add_row(m.site, m.tenant, f"{m.gpus:,}", m.model, _day(m.end_s), "yes" if m.take_or_pay else "no")
    out.print(s, width=width)
