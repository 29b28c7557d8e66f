"""Billing's documents on SQLite and PostgreSQL: invoices (header, lines, state
history), credit notes and deposits (migration 0005; docs/billing.md).

Writes run on the caller's transaction (the ledger store's write transaction, so a
run's documents and its events commit together or not at all); each insert sits in
a savepoint, so a refusal leaves the transaction usable. The database refuses what
must never happen (a second invoice for a tenant and period, a changed line of an
issued invoice, an edge the state table lacks); those refusals come back as the
domain's errors. Amounts are stored as the Decimal's text: exact on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, exc, insert, select, update

from neocloud.adapters.db import models
from neocloud.domain.billing import (
    INVOICE_TRANSITIONS,
    CreditNote,
    Deposit,
    DuplicateInvoice,
    Evidence,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceQuery,
    InvoiceRuleError,
    InvoiceState,
    LineKind,
    Period,
    history_problems,
)
from neocloud.domain.changes import StoreError
from neocloud.domain.money import Money

T = models.Base.metadata.tables
INVOICES: Table = T["invoices"]
LINES: Table = T["invoice_lines"]
CHANGES: Table = T["invoice_changes"]
NOTES: Table = T["credit_notes"]
NOTE_LINES: Table = T["credit_note_lines"]
DEPOSITS: Table = T["deposits"]

CHUNK = 500
#: How the migration's triggers begin their refusals.
REFUSALS = ("invoice_frozen", "invoice_state", "billing_append_only")


# -- writes --------------------------------------------------------------------------
def add_invoice(conn: Connection, invoice: Invoice) -> None:
    """The header as a draft, its lines, then each later state of its history."""
    _check_history(invoice)
    header = {
        "id": invoice.id,
        "tenant": invoice.tenant,
        "period": invoice.period.label,
        "tz": invoice.period.tz,
        "start_s": invoice.period.start_s,
        "end_s": invoice.period.end_s,
        "currency": invoice.currency,
        "state": InvoiceState.DRAFT.value,
        "created_s": invoice.created_s,
    }
    with _refusals(), _unique_invoice(conn, invoice), conn.begin_nested():
        conn.execute(insert(INVOICES), [header])
        if invoice.lines:
            conn.execute(
                insert(LINES), [{"invoice_id": invoice.id, **_line_row(k, x)} for k, x in enumerate(invoice.lines)]
            )
        for change in invoice.history[1:]:
            _set_state(conn, invoice.id, change)
        if invoice.history:
            conn.execute(insert(CHANGES), [_change_row(invoice.id, k, c) for k, c in enumerate(invoice.history)])


def change_invoice(conn: Connection, invoice_id: str, change: InvoiceChange) -> None:
    """A guarded state change and its history row."""
    if change.from_state is None or (change.from_state, change.to_state) not in INVOICE_TRANSITIONS:
        was = "nothing" if change.from_state is None else change.from_state.value
        raise InvoiceRuleError(f"invoice {invoice_id}: {was} -> {change.to_state.value} is not in the transition table")
    seq = conn.execute(select(CHANGES.c.seq).where(CHANGES.c.invoice_id == invoice_id).order_by(CHANGES.c.seq.desc()))
    last = seq.scalars().first()
    with _refusals(), conn.begin_nested():
        _set_state(conn, invoice_id, change)
        conn.execute(insert(CHANGES), [_change_row(invoice_id, 0 if last is None else last + 1, change)])


def add_credit_note(conn: Connection, note: CreditNote) -> None:
    header = {
        "id": note.id,
        "tenant": note.tenant,
        "invoice_id": note.invoice_id,
        "period": note.period,
        "currency": note.currency,
        "reason": note.reason,
        "created_s": note.created_s,
    }
    with _refusals(), _integrity(f"credit note {note.id}"), conn.begin_nested():
        conn.execute(insert(NOTES), [header])
        if note.lines:
            conn.execute(
                insert(NOTE_LINES), [{"note_id": note.id, **_line_row(k, x)} for k, x in enumerate(note.lines)]
            )


def add_deposit(conn: Connection, deposit: Deposit) -> None:
    row = {
        "id": deposit.id,
        "tenant": deposit.tenant,
        "amount": str(deposit.amount.amount),
        "currency": deposit.amount.currency,
        "at_s": deposit.at_s,
        "actor": deposit.actor,
        "note": deposit.note,
    }
    with _integrity(f"deposit {deposit.id}"), conn.begin_nested():
        conn.execute(insert(DEPOSITS), [row])


# -- reads ---------------------------------------------------------------------------
def invoices(conn: Connection, query: InvoiceQuery) -> list[Invoice]:
    i = INVOICES.c
    stmt = select(INVOICES)
    for column, value in ((i.tenant, query.tenant), (i.period, query.period)):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.state is not None:
        stmt = stmt.where(i.state == query.state.value)
    return _invoices(conn, conn.execute(stmt.order_by(i.period, i.tenant, i.id)).all())


def invoice(conn: Connection, invoice_id: str) -> Invoice | None:
    found = _invoices(conn, conn.execute(select(INVOICES).where(INVOICES.c.id == invoice_id)).all())
    return found[0] if found else None


def credit_notes(conn: Connection, tenant: str | None, invoice_id: str | None) -> list[CreditNote]:
    n = NOTES.c
    stmt = select(NOTES)
    for column, value in ((n.tenant, tenant), (n.invoice_id, invoice_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    return _notes(conn, conn.execute(stmt.order_by(n.created_s, n.id)).all())


def credit_note(conn: Connection, note_id: str) -> CreditNote | None:
    found = _notes(conn, conn.execute(select(NOTES).where(NOTES.c.id == note_id)).all())
    return found[0] if found else None


def deposits(conn: Connection, tenant: str | None) -> list[Deposit]:
    d = DEPOSITS.c
    stmt = select(DEPOSITS) if tenant is None else select(DEPOSITS).where(d.tenant == tenant)
    return [
        Deposit(r.id, r.tenant, Money(Decimal(r.amount), r.currency), r.at_s, r.actor, r.note)
        for r in conn.execute(stmt.order_by(d.at_s, d.id))
    ]


# -- helpers -------------------------------------------------------------------------
def _check_history(invoice: Invoice) -> None:
    problems = history_problems(invoice)
    if problems:
        raise InvoiceRuleError(f"invoice {invoice.id}: {'; '.join(problems)}")


def _set_state(conn: Connection, invoice_id: str, change: InvoiceChange) -> None:
    assert change.from_state is not None
    i = INVOICES.c
    stmt = update(INVOICES).where(i.id == invoice_id, i.state == change.from_state.value)
    if conn.execute(stmt.values(state=change.to_state.value)).rowcount != 1:  # 0 rows: a conflict
        now = conn.execute(select(i.state).where(i.id == invoice_id)).scalar_one_or_none()
        shown = "no such invoice" if now is None else f"it is {now}"
        raise InvoiceRuleError(f"invoice {invoice_id}: not {change.from_state.value} any more ({shown})")


def _line_row(position: int, line: InvoiceLine) -> dict[str, Any]:
    return {
        "position": position,
        "kind": line.kind.value,
        "lease_id": line.lease_id,
        "period": line.period,
        "description": line.description,
        "gpu_s": line.gpu_s,
        "amount": str(line.amount.amount),
        "currency": line.amount.currency,
        "evidence": [[e.node, e.start_s, e.end_s, e.gpus, e.cause] for e in line.evidence],
    }


def _line(r: Any) -> InvoiceLine:
    return InvoiceLine(
        LineKind(r.kind),
        r.lease_id,
        r.period,
        r.description,
        r.gpu_s,
        Money(Decimal(r.amount), r.currency),
        tuple(Evidence(str(n), int(s), int(e), int(g), str(c)) for n, s, e, g, c in r.evidence),
    )


def _change_row(invoice_id: str, seq: int, c: InvoiceChange) -> dict[str, Any]:
    was = None if c.from_state is None else c.from_state.value
    return {
        "invoice_id": invoice_id,
        "seq": seq,
        "from_state": was,
        "to_state": c.to_state.value,
        "at_s": c.at_s,
        "actor": c.actor,
        "reason": c.reason,
    }


def _invoices(conn: Connection, rows: Sequence[Any]) -> list[Invoice]:
    ids = [r.id for r in rows]
    lines = _grouped(conn, LINES, LINES.c.invoice_id, ids, LINES.c.position)
    changes = _grouped(conn, CHANGES, CHANGES.c.invoice_id, ids, CHANGES.c.seq)
    return [
        Invoice(
            r.id,
            r.tenant,
            Period(r.period, r.tz, r.start_s, r.end_s),
            r.currency,
            tuple(_line(x) for x in lines.get(r.id, ())),
            InvoiceState(r.state),
            r.created_s,
            tuple(
                InvoiceChange(
                    None if c.from_state is None else InvoiceState(c.from_state),
                    InvoiceState(c.to_state),
                    c.at_s,
                    c.actor,
                    c.reason,
                )
                for c in changes.get(r.id, ())
            ),
        )
        for r in rows
    ]


def _notes(conn: Connection, rows: Sequence[Any]) -> list[CreditNote]:
    lines = _grouped(conn, NOTE_LINES, NOTE_LINES.c.note_id, [r.id for r in rows], NOTE_LINES.c.position)
    return [
        CreditNote(
            r.id,
            r.tenant,
            r.invoice_id,
            r.period,
            r.currency,
            tuple(_line(x) for x in lines.get(r.id, ())),
            r.reason,
            r.created_s,
        )
        for r in rows
    ]


def _grouped(conn: Connection, table: Table, key: Any, ids: list[str], order: Any) -> dict[str, list[Any]]:
    """The rows of ``table`` whose ``key`` is one of ``ids``, grouped by it, in ``order``."""
    out: dict[str, list[Any]] = {}
    for chunk in _chunks(sorted(set(ids))):
        for r in conn.execute(select(table).where(key.in_(chunk)).order_by(key, order)):
            out.setdefault(getattr(r, key.name), []).append(r)
    return out


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for k in range(0, len(items), CHUNK):
        yield items[k : k + CHUNK]


@contextmanager
def _unique_invoice(conn: Connection, invoice: Invoice) -> Iterator[None]:
    """The unique rule on ``(tenant, period)`` as :class:`DuplicateInvoice`."""
    try:
        yield
    except exc.IntegrityError as e:
        if _refused_by_trigger(e):
            raise
        i = INVOICES.c
        held = conn.execute(
            select(i.id).where(i.tenant == invoice.tenant, i.period == invoice.period.label)
        ).scalar_one_or_none()
        if held is not None:
            raise DuplicateInvoice(
                f"tenant {invoice.tenant!r} already has invoice {held} for {invoice.period.label}; "
                f"the database allows one per tenant and period ({models.ONE_INVOICE})"
            ) from e
        raise StoreError(f"invoice {invoice.id}: the database refused it: {e.orig}") from e


@contextmanager
def _integrity(what: str) -> Iterator[None]:
    try:
        yield
    except exc.IntegrityError as e:
        if _refused_by_trigger(e):
            raise
        raise StoreError(f"{what}: the database refused it: {e.orig}") from e


@contextmanager
def _refusals() -> Iterator[None]:
    """A billing trigger's refusal (SQLite: an integrity error; PostgreSQL: a raised
    exception) as :class:`InvoiceRuleError` with the database's words."""
    try:
        yield
    except exc.DBAPIError as e:
        if _refused_by_trigger(e):
            raise InvoiceRuleError(f"the database refused it: {_reason(e)}") from e
        raise


def _reason(e: exc.DBAPIError) -> str:
    return str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)


def _refused_by_trigger(e: exc.DBAPIError) -> bool:
    return _reason(e).startswith(REFUSALS)
