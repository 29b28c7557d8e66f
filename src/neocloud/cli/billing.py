"""``neocloud billing`` (run, deposit, credit notes) and ``neocloud invoice`` (list,
show, export, issue, pay, void): the operator's invoices (docs/cli.md, docs/billing.md)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import actor_name, bad_input, db_url, err, human_width, stdout_console
from neocloud.cli.views import short_time
from neocloud.domain.billing import CreditNote, Invoice, InvoiceState, period
from neocloud.domain.clock import SystemClock, to_s
from neocloud.domain.errors import RequestError
from neocloud.domain.money import BadMoney, Money
from neocloud.services.billing import BillingService, Voided
from neocloud.services.billing_export import invoice_csv, invoice_document, note_document
from neocloud.services.catalog import MAX_LIMIT, Page

X = TypeVar("X")
out = stdout_console()
billing_app = typer.Typer(help="Invoice runs, prepayments and credit notes.", no_args_is_help=True)
invoice_app = typer.Typer(help="Invoices: list, show, export, issue, pay, void.", no_args_is_help=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $NEOCLOUD_DB or sqlite:///neocloud.db).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (documented in docs/cli.md).")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who is acting, for the history and the event log.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why: kept in the invoice's history.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Only this tenant's.")]


def service(db: str | None) -> BillingService:
    return bootstrap.billing_service(db_url(db))


# -- neocloud billing ------------------------------------------------------------------
@billing_app.command("run")
def run(
    month: Annotated[str, typer.Option("--period", help="The month to bill, YYYY-MM.")],
    tz: Annotated[str, typer.Option("--tz", help="The IANA zone the month is in; recorded on each invoice.")] = "UTC",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Preview the drafts (even before the month ends); write nothing.")
    ] = False,
    draft: Annotated[
        bool, typer.Option("--draft", help="Keep the invoices as drafts to review; invoice issue sends each.")
    ] = False,
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue the month's invoices and the credit notes closed months need.

    One invoice per tenant; running it again issues nothing new. Refused (exit 3)
    before the month ends, unless --dry-run."""
    with bad_input(), _progress(f"billing {month}"):
        done = service(db).run(month, tz, actor=actor_name(actor), dry_run=dry_run, draft=draft)
    if as_json:
        doc = {
            "period": done.period.label,
            "tz": done.period.tz,
            "dry_run": done.dry_run,
            "invoices": [invoice_document(i) for i in done.invoices],
            "credit_notes": [note_document(n) for n in done.credit_notes],
            "pending_debits": len(done.pending),
            "waiting_drafts": list(done.waiting),
        }
        print(json.dumps(doc, indent=2))
        return
    verb = "would issue" if done.dry_run else ("drafted" if draft else "issued")
    invoices, notes = len(done.invoices), len(done.credit_notes)
    head = f"{done.period.label} ({done.period.tz}): {verb} {invoices} invoice{'s' * (invoices != 1)}"
    say(f"{head}, {notes} credit note{'s' * (notes != 1)}")
    if done.dry_run and done.period.end_s > to_s(SystemClock().now()):
        say(
            "a projection: the whole month rated as the ledger stands now (today's health and "
            "bookings carried to its end); the dashboard's /invoices preview is the month so far"
        )
    if done.invoices:
        table = Table(box=box.SIMPLE, pad_edge=False)
        for name in ("invoice", "tenant", "lines"):
            table.add_column(name, overflow="fold")
        table.add_column("total", justify="right")
        for i in done.invoices:
            table.add_row(i.id, i.tenant, str(len(i.lines)), money(i.total))
        out.print(table, width=human_width(out))
    if done.credit_notes:
        _notes_table(list(done.credit_notes))
    if done.pending:
        say(f"{len(done.pending)} debit lines wait for the next month's invoices")
    if done.waiting:
        say(f"drafts still to issue or void: {', '.join(done.waiting)}")


@billing_app.command("deposit")
def deposit(
    tenant: Annotated[str, typer.Argument(help="The tenant that paid ahead.")],
    amount: Annotated[str, typer.Argument(help="The amount, like '5000000.00 USD'.")],
    note: Annotated[str, typer.Option("--note", help="What the payment was (a reference).")] = "",
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a prepayment; later invoices draw it down (a negative prepayment line)."""
    with bad_input():
        try:
            paid = Money.parse(amount)
        except BadMoney as e:
            raise RequestError([f"amount: {e}"]) from None
        made = service(db).deposit(tenant, paid, actor=actor_name(actor), note=note)
    if as_json:
        doc = {
            "id": made.id,
            "tenant": made.tenant,
            "amount": str(made.amount.amount),
            "currency": made.amount.currency,
        }
        print(json.dumps({**doc, "note": made.note}, indent=2))
        return
    say(f"deposit {made.id}: {made.amount} from {made.tenant}")


@billing_app.command("credit-notes")
def credit_notes(
    tenant: TenantOpt = None,
    invoice: Annotated[str | None, typer.Option("--invoice", help="Only those on this invoice.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Credit notes, oldest first: what was given back, on which invoice, and why."""
    with bad_input():
        svc = service(db)
        notes = _every(
            lambda cursor: svc.credit_notes(tenant=tenant, invoice_id=invoice, limit=MAX_LIMIT, cursor=cursor)
        )
    if as_json:
        print(json.dumps([note_document(n) for n in notes], indent=2))
        return
    if not notes:
        out.print("no credit notes", highlight=False)
        return
    _notes_table(notes)


# -- neocloud invoice ------------------------------------------------------------------
@invoice_app.command("list")
def invoice_list(
    tenant: TenantOpt = None,
    month: Annotated[str | None, typer.Option("--period", help="Only this month, YYYY-MM.")] = None,
    state: Annotated[InvoiceState | None, typer.Option("--state", help="Only invoices in this state.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Invoices by period, then tenant."""
    with bad_input():
        label = None if month is None else period(month, field="--period").label
        svc = service(db)
        invoices = _every(
            lambda cursor: svc.invoices(tenant=tenant, period=label, state=state, limit=MAX_LIMIT, cursor=cursor)
        )
    if as_json:
        print(json.dumps([_summary(i) for i in invoices], indent=2))
        return
    if not invoices:
        out.print("no invoices", highlight=False)
        return
    table = Table(box=box.SIMPLE, pad_edge=False, collapse_padding=True)
    for name, justify in (("invoice", "left"), ("tenant", "left"), ("period", "left"), ("state", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    table.add_column("total", justify="right")
    for i in invoices:
        table.add_row(i.id, i.tenant, _period(i), i.state.value, money(i.total))
    out.print(table, width=human_width(out))


@invoice_app.command("show")
def invoice_show(
    invoice_id: Annotated[str, typer.Argument(metavar="ID", help="The invoice, e.g. INV-acme-2027-01.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One invoice: its lines (with the evidence behind each SLA credit) and its history."""
    with bad_input():
        invoice = service(db).invoice(invoice_id)
    if as_json:
        print(json.dumps(invoice_document(invoice), indent=2))
        return
    show_invoice(invoice)


@invoice_app.command("export")
def invoice_export(
    invoice_id: Annotated[str, typer.Argument(metavar="ID", help="The invoice.")],
    fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here (default: stdout).")] = None,
    db: DbOpt = None,
) -> None:
    """The invoice as a JSON document or CSV (one row per line, then the total)."""
    with bad_input():
        if fmt not in ("json", "csv"):
            raise RequestError([f"--format: {fmt!r} is not json or csv"])
        invoice = service(db).invoice(invoice_id)
        text = json.dumps(invoice_document(invoice), indent=2) + "\n" if fmt == "json" else invoice_csv(invoice)
        if output is None:
            print(text, end="")
            return
        bootstrap.write_text(output, text)
    say(f"wrote {invoice.id} as {fmt} to {output}")


@invoice_app.command("issue")
def invoice_issue(
    invoice_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: ReasonOpt,
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send a draft: from then on its lines never change."""
    with bad_input():
        invoice = service(db).issue(invoice_id, actor=actor_name(actor), reason=reason)
    _moved(invoice, None, as_json)


@invoice_app.command("pay")
def invoice_pay(
    invoice_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: ReasonOpt,
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the payment of an issued invoice's total."""
    with bad_input():
        invoice = service(db).pay(invoice_id, actor=actor_name(actor), reason=reason)
    _moved(invoice, None, as_json)


@invoice_app.command("void")
def invoice_void(
    invoice_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: ReasonOpt,
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Discard a draft, or withdraw an issued invoice (a credit note of what it billed)."""
    with bad_input():
        voided: Voided = service(db).void(invoice_id, actor=actor_name(actor), reason=reason)
    _moved(voided.invoice, voided.credit_note, as_json)


# -- output ------------------------------------------------------------------------------
def money(m: Money) -> str:
    """``1,234,567.89 USD``: the exact amount with thousands separators."""
    return f"{m.amount:,} {m.currency}"


def say(line: str) -> None:
    """A sentence wrapped to the human width (ids and amounts are never split)."""
    width = human_width(out)
    out.print(
        textwrap.fill(line, width=width, break_long_words=False, break_on_hyphens=False), highlight=False, markup=False
    )


def show_invoice(invoice: Invoice) -> None:
    width = human_width(out)
    say(f"{invoice.id}: {invoice.tenant}, {_period(invoice)}, {invoice.state.value}")
    table = Table(box=box.SIMPLE, pad_edge=False)
    for name, justify in (("#", "right"), ("kind", "left"), ("lease", "left"), ("period", "left"), ("GPU-h", "right")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    table.add_column("amount", justify="right")
    for k, x in enumerate(invoice.lines, start=1):
        hours = f"{Decimal(x.gpu_s) / 3600:,.1f}" if x.gpu_s else ""
        table.add_row(str(k), x.kind.value, x.lease_id or "-", x.period, hours, money(x.amount))
    table.add_row("", "total", "", "", "", money(invoice.total))
    out.print(table, width=width)
    for k, x in enumerate(invoice.lines, start=1):  # prose below the table, wrapped
        text = f"{k}. {x.description}"
        if x.evidence:
            text += f" ({len(x.evidence)} evidence intervals: invoice show --json)"
        out.print(textwrap.fill(text, width=width, subsequent_indent="   "), highlight=False, markup=False)
    for c in invoice.history:
        was = "created" if c.from_state is None else c.from_state.value
        line = f"{_time(c.at_s)} {was} -> {c.to_state.value} by {c.actor}: {c.reason}"
        out.print(textwrap.fill(line, width=width, subsequent_indent="  "), highlight=False, markup=False)


def _notes_table(notes: list[CreditNote]) -> None:
    table = Table(box=box.SIMPLE, pad_edge=False)
    for name in ("credit note", "tenant", "invoice", "period"):
        table.add_column(name, overflow="fold")
    table.add_column("total", justify="right")
    for n in notes:
        table.add_row(n.id, n.tenant, n.invoice_id, n.period, money(n.total))
    out.print(table, width=human_width(out))


def _moved(invoice: Invoice, note: CreditNote | None, as_json: bool) -> None:
    if as_json:
        doc: dict[str, Any] = invoice_document(invoice)
        if note is not None:
            doc["credit_note"] = note_document(note)
        print(json.dumps(doc, indent=2))
        return
    say(f"{invoice.id} is {invoice.state.value} ({money(invoice.total)})")
    if note is not None:
        say(f"credit note {note.id}: {money(note.total)} given back")


def _every(read: Callable[[str | None], Page[X]]) -> list[X]:
    """Every item of a paged read, page after page."""
    items: list[X] = []
    cursor: str | None = None
    while True:
        got = read(cursor)
        items += got.items
        if got.next_cursor is None:
            return items
        cursor = got.next_cursor


def _summary(i: Invoice) -> dict[str, Any]:
    doc = invoice_document(i)
    return {k: doc[k] for k in ("id", "tenant", "period", "tz", "state", "currency", "total", "created")}


def _period(i: Invoice) -> str:
    return i.period.label if i.period.tz == "UTC" else f"{i.period.label} {i.period.tz}"


@contextmanager
def _progress(what: str) -> Iterator[None]:
    """A spinner on a terminal while the run rates the month; nothing when piped."""
    if not err.is_terminal:
        yield
        return
    with err.status(f"{what}..."):
        yield


def _time(t_s: int) -> str:
    return short_time(t_s)
