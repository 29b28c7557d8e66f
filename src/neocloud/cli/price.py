"""``neocloud price show``, ``history`` and ``publish``: the operator's price book."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import actor_name, bad_input, db_url, human_width, parse_time, stdout_console
from neocloud.cli.views import iso
from neocloud.domain.clock import to_s
from neocloud.domain.errors import RequestError
from neocloud.domain.leases import Tier
from neocloud.economics.pricebook import PriceBook, PriceRow, price_rows
from neocloud.services.pricing import PricingService

out = stdout_console()
app = typer.Typer(help="The price book: rate cards per tier and GPU model, in versions.", no_args_is_help=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $NEOCLOUD_DB or sqlite:///neocloud.db).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (documented in docs/cli.md).")]


def service(db: str | None) -> PricingService:
    return bootstrap.price_book(db_url(db))


@app.command("show")
def show(
    tier: Annotated[Tier | None, typer.Option("--tier", help="Only this tier.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Only this GPU model.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="The book in force at this time (default now).")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The rate cards in force (now, or --at TIME)."""
    with bad_input():
        at_s = None if at is None else to_s(parse_time("--at", at))
        book = service(db).book_at(at_s)
        if model is not None and model not in book.cards.models():
            known = ", ".join(book.cards.models())
            raise RequestError([f"model: price book v{book.version} has no card for {model!r}; it prices {known}"])
    rows = [_row(r) for r in price_rows(book.cards, tier, model)]
    if as_json:
        print(json.dumps({**book_json(book), "rows": rows}, indent=2))
        return
    out.print(
        f"price book v{book.version}, in force from {iso(book.effective_s)} ({book.cards.currency})",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(box=box.SIMPLE, pad_edge=False)
    for name, justify in (("tier", "left"), ("model", "left"), ("term / unit", "left"), ("rate/GPU-h", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("terms", overflow="fold")
    for r in rows:
        table.add_row(r["tier"], r["model"], r["term"], r["rate_per_gpu_hour"], r["terms"])
    out.print(table)


@app.command("history")
def history(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every version, oldest first: when it took effect, who published it and why."""
    with bad_input():
        books = service(db).versions()
    if as_json:
        print(json.dumps([book_json(b) for b in books], indent=2))
        return
    if not books:
        out.print("no price book yet: neocloud price publish FILE", highlight=False)
        return
    width = human_width(out)
    table = Table(box=box.SIMPLE, pad_edge=False)
    for name in ("version", "effective", "author", "cards"):
        table.add_column(name, overflow="fold")
    for b in books:
        n = sum(len(g) for g in (b.cards.wholesale, b.cards.reserved, b.cards.on_demand, b.cards.spot))
        table.add_row(f"v{b.version}", iso(b.effective_s) or "", b.author, str(n))
    out.print(table, width=width)
    for b in books:  # notes are prose: below the table, wrapped, so the table stays narrow
        if b.note:
            note = textwrap.fill(f"v{b.version}: {b.note}", width=width, subsequent_indent="  ")
            out.print(note, highlight=False, markup=False)


@app.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(help="Rate-card file: YAML, TOML or JSON (docs/economics.md).")],
    effective: Annotated[
        str | None, typer.Option("--effective", help="When it takes effect: now (default) or later.")
    ] = None,
    db: DbOpt = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Who is publishing, for the event log.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish a new version from a rate-card file; a bad file exits 2 naming each field, writing nothing."""
    with bad_input():
        cards, note = bootstrap.rate_card_file(file)
        effective_s = None if effective is None else to_s(parse_time("--effective", effective))
        book = service(db).publish(cards, actor=actor_name(actor), note=note, effective_s=effective_s)
    if as_json:
        print(json.dumps(book_json(book), indent=2))
        return
    out.print(f"published price book v{book.version}, in force from {iso(book.effective_s)}", highlight=False)


def book_json(book: PriceBook) -> dict[str, Any]:
    c = book.cards
    return {
        "version": book.version,
        "effective": iso(book.effective_s),
        "created": iso(book.created_s),
        "author": book.author,
        "note": book.note,
        "currency": c.currency,
        "wholesale": [
            {
                "model": w.model,
                "per_gpu_month": str(w.gpu_month.amount),
                "monthly_fee": None if w.monthly_fee is None else str(w.monthly_fee.amount),
                "unit_gpus": w.unit_gpus,
                "ramp": [{"month": r.month, "discount": str(r.discount)} for r in w.ramp],
            }
            for w in c.wholesale
        ],
        "reserved": [
            {
                "model": r.model,
                "base": str(r.base.amount),
                "discounts": [{"min_term_days": d.min_term_days, "discount": str(d.discount)} for d in r.discounts],
            }
            for r in c.reserved
        ],
        "on_demand": [{"model": o.model, "rate": str(o.rate.amount)} for o in c.on_demand],
        "spot": [
            {"model": s.model, "discount": str(s.discount), "eviction_notice_s": s.eviction_notice_s} for s in c.spot
        ],
    }


def _row(r: PriceRow) -> dict[str, str]:
    return {
        "tier": r.tier.value,
        "model": r.model,
        "term": r.term,
        "rate_per_gpu_hour": str(r.rate.amount),
        "terms": r.terms,
    }
