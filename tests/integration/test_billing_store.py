"""Billing's documents in the stores: the same bodies on memory, SQLite and PostgreSQL,
and what the SQL databases refuse by themselves (docs/billing.md): a second invoice for
a tenant and period, a changed line of an issued invoice, an edge the state table lacks,
a changed credit note or deposit."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import exc, text

from neocloud.adapters.db.store import SqlStore
from neocloud.domain.billing import (
    INVOICE_TRANSITIONS,
    Deposit,
    DuplicateInvoice,
    Evidence,
    InvoiceChange,
    InvoiceLine,
    InvoiceQuery,
    InvoiceRuleError,
    LineKind,
    period,
)
from neocloud.domain.changes import StoreError
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.services.ports import BillingStore
from tests.integration.stores import STORE_KINDS, store_factory
from tests.invoice_builders import DRAFTED, FEB, IS, ISSUED, a_note, an_invoice, usd


@pytest.fixture(params=STORE_KINDS)
def any_store(request: pytest.FixtureRequest) -> BillingStore:
    store = store_factory(request.param, request)()
    store.create_schema()
    store.load_fleet(build_fleet(preset("demo")), 0, "test")
    return store  # type: ignore[return-value]


@pytest.fixture(params=["sqlite", "postgres"])
def sql(request: pytest.FixtureRequest) -> SqlStore:
    store = store_factory(request.param, request)()
    assert isinstance(store, SqlStore)
    store.create_schema()
    store.load_fleet(build_fleet(preset("demo")), 0, "test")
    return store


# -- every store ---------------------------------------------------------------------
def test_invoices_credit_notes_and_deposits_come_back_equal(any_store: BillingStore):
    inv, draft = an_invoice(), an_invoice("INV-2", "beta", FEB, IS.DRAFT)
    deposit = Deposit("DEP-1", "acme", usd("5000000.00"), 50, "ops", "prepaid Q1")
    with any_store.writing() as w:
        w.add_invoice(inv)
        w.add_invoice(draft)
        w.add_credit_note(a_note())
        w.add_deposit(deposit)
        assert w.invoice("INV-1") == inv  # the writer reads its own writes
    assert any_store.invoice("INV-1") == inv
    assert any_store.invoice("INV-2") == draft
    assert any_store.invoice("INV-9") is None
    assert any_store.invoices(InvoiceQuery()) == [inv, draft]
    assert any_store.invoices(InvoiceQuery(tenant="beta")) == [draft]
    assert any_store.invoices(InvoiceQuery(period="2027-01", state=IS.ISSUED)) == [inv]
    assert any_store.invoices(InvoiceQuery(state=IS.PAID)) == []
    assert any_store.credit_notes() == [a_note()]
    assert any_store.credit_notes(invoice_id="INV-2") == []
    assert any_store.credit_note("CN-1") == a_note()
    assert any_store.deposits("acme") == [deposit]
    assert any_store.deposits("beta") == []
    assert inv.total == usd("1222.22")


def test_a_second_invoice_for_a_tenant_and_period_is_refused(any_store: BillingStore):
    with any_store.writing() as w:
        w.add_invoice(an_invoice())
    with pytest.raises(DuplicateInvoice, match="already has invoice INV-1 for 2027-01"), any_store.writing() as w:
        w.add_invoice(an_invoice("INV-2", p=period("2027-01", "Asia/Tokyo")))  # same label, another zone
    with any_store.writing() as w:
        w.add_invoice(an_invoice("INV-3", "beta"))  # another tenant: fine
        w.add_invoice(an_invoice("INV-4", p=period("2027-02")))  # another period: fine
    assert [i.id for i in any_store.invoices(InvoiceQuery(tenant="acme"))] == ["INV-1", "INV-4"]


def test_state_changes_follow_the_table_are_guarded_and_kept_as_history(any_store: BillingStore):
    with any_store.writing() as w:
        w.add_invoice(an_invoice())
    paid = InvoiceChange(IS.ISSUED, IS.PAID, 300, "ops", "wire 2027-02-03")
    with any_store.writing() as w:
        w.change_invoice("INV-1", paid)
    stored = any_store.invoice("INV-1")
    assert stored is not None
    assert stored.state is IS.PAID
    assert stored.history == (DRAFTED, ISSUED, paid)
    assert stored.lines == an_invoice().lines
    with pytest.raises(InvoiceRuleError, match="not issued any more"), any_store.writing() as w:
        w.change_invoice("INV-1", InvoiceChange(IS.ISSUED, IS.VOID, 400, "ops", "a stale view"))
    with pytest.raises(InvoiceRuleError, match="not in the transition table"), any_store.writing() as w:
        w.change_invoice("INV-1", InvoiceChange(IS.PAID, IS.DRAFT, 400, "ops", "undo"))
    assert any_store.invoice("INV-1") == stored


def test_an_invoice_whose_history_skips_the_table_is_not_stored(any_store: BillingStore):
    jump = InvoiceChange(IS.DRAFT, IS.PAID, 100, "run", "no")
    for bad in (
        an_invoice(history=(DRAFTED, jump), state=IS.PAID),
        an_invoice(history=()),  # issued without a history
        an_invoice(history=(ISSUED,)),  # no creation record
    ):
        with pytest.raises(InvoiceRuleError), any_store.writing() as w:
            w.add_invoice(bad)
    assert any_store.invoices(InvoiceQuery()) == []


def test_a_failed_transaction_keeps_none_of_its_documents(any_store: BillingStore):
    def half_a_run() -> None:
        with any_store.writing() as w:
            w.add_invoice(an_invoice())
            w.add_credit_note(a_note())
            w.add_deposit(Deposit("DEP-1", "acme", usd("1.00"), 1, "ops"))
            raise RuntimeError("the run failed half-way")

    with pytest.raises(RuntimeError):
        half_a_run()
    assert any_store.invoices(InvoiceQuery()) == []
    assert any_store.credit_notes() == []
    assert any_store.deposits() == []
    with any_store.writing() as w:  # the unique rule does not remember the rolled-back invoice
        w.add_invoice(an_invoice())


def test_a_credit_note_needs_its_invoice_and_ids_are_written_once(any_store: BillingStore):
    with pytest.raises(StoreError), any_store.writing() as w:
        w.add_credit_note(a_note(invoice_id="INV-404"))
    with any_store.writing() as w:
        w.add_invoice(an_invoice())
        w.add_credit_note(a_note())
        w.add_deposit(Deposit("DEP-1", "acme", usd("1.00"), 1, "ops"))
    for write in (
        lambda w: w.add_invoice(an_invoice(tenant="beta")),
        lambda w: w.add_credit_note(a_note()),
        lambda w: w.add_deposit(Deposit("DEP-1", "acme", usd("2.00"), 2, "ops")),
    ):
        with pytest.raises(StoreError), any_store.writing() as w:
            write(w)


# -- what the SQL databases refuse by themselves -------------------------------------------
def raw(store: SqlStore, sql: str, **params: object) -> None:
    """One statement in a transaction of its own, past the store."""
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def refused(store: SqlStore, sql: str, words: str, **params: object) -> None:
    with pytest.raises(exc.DBAPIError) as caught:
        raw(store, sql, **params)
    assert words in str(caught.value.orig)


def test_the_database_refuses_a_second_invoice_for_a_tenant_and_period_inserted_directly(sql: SqlStore):
    insert = (
        "INSERT INTO invoices (id, tenant, period, tz, start_s, end_s, currency, state, created_s) "
        "VALUES (:id, :tenant, '2027-01', 'UTC', 0, 10, 'USD', 'draft', 0)"
    )
    raw(sql, insert, id="INV-1", tenant="acme")
    raw(sql, insert, id="INV-2", tenant="beta")
    with pytest.raises(exc.IntegrityError) as caught:
        raw(sql, insert, id="INV-3", tenant="acme")
    assert "invoices_one_per_tenant_period" in str(caught.value.orig) or "UNIQUE" in str(caught.value.orig)


def test_the_database_refuses_changing_the_lines_of_an_issued_invoice(sql: SqlStore):
    with sql.writing() as w:
        w.add_invoice(an_invoice())
        w.add_invoice(an_invoice("INV-2", "beta", state=IS.DRAFT))
    frozen = "invoice_frozen"
    refused(sql, "UPDATE invoice_lines SET amount = '1.00' WHERE invoice_id = 'INV-1'", frozen)
    refused(sql, "UPDATE invoice_lines SET invoice_id = 'INV-2' WHERE invoice_id = 'INV-1'", frozen)
    refused(sql, "UPDATE invoice_lines SET invoice_id = 'INV-1' WHERE invoice_id = 'INV-2'", frozen)  # into it
    refused(sql, "DELETE FROM invoice_lines WHERE invoice_id = 'INV-1'", frozen)
    refused(
        sql,
        "INSERT INTO invoice_lines (invoice_id, position, kind, lease_id, period, description, gpu_s, amount, "
        "currency, evidence) VALUES ('INV-1', 9, 'charge', 'L-9', '2027-01', 'more', 1, '1.00', 'USD', '[]')",
        frozen,
    )
    refused(sql, "UPDATE invoices SET currency = 'EUR' WHERE id = 'INV-1'", frozen)
    refused(sql, "UPDATE invoices SET tenant = 'beta', period = '2027-02' WHERE id = 'INV-1'", frozen)
    refused(sql, "DELETE FROM invoices WHERE id = 'INV-1'", frozen)
    raw(sql, "UPDATE invoice_lines SET description = 'reworded' WHERE invoice_id = 'INV-2'")  # a draft may change
    assert sql.invoice("INV-1") == an_invoice()


def test_the_database_allows_exactly_the_edges_of_the_transition_table(sql: SqlStore):
    states = list(IS)
    with sql.writing() as w:
        for k in range(len(states) ** 2):
            w.add_invoice(replace(an_invoice(f"INV-{k}", f"t{k}", state=IS.DRAFT), lines=()))
    for k, (a, b) in enumerate(itertools.product(states, states)):
        # put invoice k in state a directly (bypassing the guard only by a legal path)
        path = {IS.DRAFT: [], IS.ISSUED: ["issued"], IS.PAID: ["issued", "paid"], IS.VOID: ["void"]}[a]
        for state in path:
            raw(sql, "UPDATE invoices SET state = :s WHERE id = :id", s=state, id=f"INV-{k}")
        move = "UPDATE invoices SET state = :s WHERE id = :id"
        if a is b or (a, b) in INVOICE_TRANSITIONS:
            raw(sql, move, s=b.value, id=f"INV-{k}")
        else:
            refused(sql, move, "invoice_state", s=b.value, id=f"INV-{k}")


def test_the_database_refuses_changing_credit_notes_deposits_and_history(sql: SqlStore):
    with sql.writing() as w:
        w.add_invoice(an_invoice())
        w.add_credit_note(a_note())
        w.add_deposit(Deposit("DEP-1", "acme", usd("1.00"), 1, "ops"))
    appended = "billing_append_only"
    for statement in (
        "UPDATE credit_notes SET reason = 'x'",
        "DELETE FROM credit_notes",
        "UPDATE credit_note_lines SET amount = '0'",
        "DELETE FROM credit_note_lines",
        "UPDATE deposits SET amount = '100'",
        "DELETE FROM deposits",
        "UPDATE invoice_changes SET actor = 'someone else'",
        "DELETE FROM invoice_changes",
    ):
        refused(sql, statement, appended)
    assert sql.credit_notes() == [a_note()]


def test_the_same_invoice_twice_is_a_duplicate_on_every_store(any_store: BillingStore):
    with any_store.writing() as w:
        w.add_invoice(an_invoice())
    with pytest.raises(DuplicateInvoice, match="already has invoice INV-1"), any_store.writing() as w:
        w.add_invoice(an_invoice())  # the same id too: a run's ids derive from tenant and period


amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False)
# PostgreSQL's text holds no NUL character: names and descriptions never carry one.
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
evidence = st.builds(Evidence, texts, st.integers(0, 2**40), st.integers(0, 2**40), st.integers(0, 10**6), texts)
lines = st.builds(
    InvoiceLine,
    st.sampled_from(LineKind),
    texts,
    st.just("2027-01"),
    texts,
    st.integers(0, 2**60),
    amounts.map(lambda a: Money(a, "USD")),
    st.lists(evidence, max_size=4).map(tuple),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines, max_size=6), st.integers(0, 2**40))
def test_any_invoice_and_credit_note_come_back_from_the_database_equal(sql: SqlStore, drawn: list, n: int):
    invoice = an_invoice(f"INV-{n}-{uuid.uuid4().hex}", f"t-{uuid.uuid4().hex}", lines=tuple(drawn))
    note = replace(a_note(f"CN-{uuid.uuid4().hex}", invoice.id), lines=tuple(drawn))
    with sql.writing() as w:
        w.add_invoice(invoice)
        w.add_credit_note(note)
    assert sql.invoice(invoice.id) == invoice
    assert sql.credit_note(note.id) == note
    assert invoice.total.amount == sum((x.amount.amount for x in drawn), Decimal(0))
