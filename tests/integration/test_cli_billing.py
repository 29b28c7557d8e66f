"""``neocloud billing`` and ``neocloud invoice`` end to end on SQLite: a run, its invoices
listed, shown and exported (CSV that adds up), pay and void, ``--json`` everywhere,
piped output within 80 columns, and bad input exiting 2 (refusals 3) naming the field.

The CLI reads the system clock: the ledger is built with a clock set in the past (a
lease over September 2026, booked in August), so the month has ended when the CLI runs.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from neocloud import bootstrap
from neocloud.domain.billing import period
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from tests.integration.test_cli_ledger import Ledger, text
from tests.integration.test_cli_piped import _piped
from tests.invoice_builders import an_invoice

TENANT = "frontier-research-laboratories"  # a long name: tables fold it, never cut it
HEALTHY = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
SEP_1, OCT_1 = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    """Two tenants with a reserved H100 lease each over September 2026 at $2.00 / GPU-h."""
    url = f"sqlite:///{tmp_path / 'billing.db'}"
    leasing = bootstrap.leasing_service(url, ManualClock(datetime(2026, 8, 20, tzinfo=UTC)))
    leasing.init(build_fleet(preset("demo", HEALTHY)), actor="test")
    for tenant, gpus in ((TENANT, 16), ("acme", 8)):
        leasing.add_tenant(tenant, actor="test")
        shape = Shape(("H100",), gpus=gpus, locality=Locality.BLOCK)
        leasing.create(LeaseRequest(tenant, shape, to_s(SEP_1), to_s(OCT_1), Money(Decimal("2.00"))), actor="test")
    return Ledger(url)


def test_a_run_issues_the_invoices_and_says_so_as_text_and_as_json(ledger: Ledger) -> None:
    preview = ledger.json("billing", "run", "--period", "2026-09", "--dry-run", "--json")
    assert preview["dry_run"] is True
    assert [i["state"] for i in preview["invoices"]] == ["draft", "draft"]
    assert ledger.json("invoice", "list", "--json") == []  # the preview wrote nothing
    said = text(ledger.ok("billing", "run", "--period", "2026-09").stdout)
    assert "2026-09 (UTC): issued 2 invoices, 0 credit notes" in said
    listed = ledger.json("invoice", "list", "--json")
    assert [(i["id"], i["total"], i["state"]) for i in listed] == [
        ("INV-acme-2026-09", "11520.00", "issued"),  # 8 GPUs x 720 h x $2.00
        (f"INV-{TENANT}-2026-09", "23040.00", "issued"),
    ]
    again = ledger.json("billing", "run", "--period", "2026-09", "--json")
    assert again["invoices"] == []
    assert again["credit_notes"] == []


def test_show_export_pay_and_void(ledger: Ledger, tmp_path: Path) -> None:
    ledger.ok("billing", "run", "--period", "2026-09")
    shown = ledger.json("invoice", "show", "INV-acme-2026-09", "--json")
    assert shown["lines"][0]["gpu_s"] == 8 * 720 * 3600
    target = tmp_path / "out" / "inv.csv"
    ledger.ok("invoice", "export", "INV-acme-2026-09", "--format", "csv", "-o", target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert sum(Decimal(r["amount"]) for r in rows[:-1]) == Decimal(rows[-1]["amount"]) == Decimal(shown["total"])
    exported = json.loads(ledger.ok("invoice", "export", "INV-acme-2026-09").stdout)
    assert exported == shown
    paid = ledger.json("invoice", "pay", "INV-acme-2026-09", "--reason", "wire 2026-10-03", "--json")
    assert paid["state"] == "paid"
    assert paid["history"][-1]["reason"] == "wire 2026-10-03"
    voided = ledger.json("invoice", "void", f"INV-{TENANT}-2026-09", "--reason", "wrong tenant", "--json")
    assert voided["state"] == "void"
    assert voided["credit_note"]["total"] == "23040.00"
    notes = ledger.json("billing", "credit-notes", "--json")
    assert [n["id"] for n in notes] == [f"CN-{TENANT}-2026-09-1"]


def test_refusals_exit_3_and_bad_input_exits_2_naming_the_field(ledger: Ledger) -> None:
    early = ledger("billing", "run", "--period", "2999-01")
    assert early.exit_code == 3
    assert "2999-01 ends 2999-02-01 00:00 UTC" in text(early.stderr)
    for args, words in (
        (("billing", "run", "--period", "2026-13"), "period: month 13 of '2026-13' is not 01 to 12"),
        (("billing", "run", "--period", "2026-09", "--tz", "Mars/Olympus"), "tz: 'Mars/Olympus' is not an IANA"),
        (("invoice", "list", "--period", "sept"), "--period: 'sept' is not a month written YYYY-MM"),
        (("invoice", "show", "INV-nope"), "no invoice 'INV-nope'"),
        (("invoice", "export", "INV-nope", "--format", "xml"), "--format: 'xml' is not json or csv"),
        (("billing", "deposit", "acme", "ten dollars"), "amount:"),
        (("billing", "deposit", "acme", "0"), "amount: 0 USD must be more than zero"),
    ):
        result = ledger(*args)
        assert result.exit_code == 2, (args, result.output)
        assert words in text(result.stderr), args
    ledger.ok("billing", "run", "--period", "2026-09")
    ledger.ok("invoice", "pay", "INV-acme-2026-09", "--reason", "paid")
    again = ledger("invoice", "pay", "INV-acme-2026-09", "--reason", "paid twice")
    assert again.exit_code == 3
    assert "cannot go from paid to paid" in text(again.stderr)
    missing = ledger("invoice", "void", "INV-acme-2026-09")
    assert missing.exit_code == 2
    assert "--reason" in text(missing.output)


def test_piped_invoice_tables_fit_80_columns_and_print_values_whole(ledger: Ledger) -> None:
    ledger.ok("billing", "run", "--period", "2026-09")
    for args in (["invoice", "list"], ["invoice", "show", f"INV-{TENANT}-2026-09"], ["billing", "credit-notes"]):
        out = _piped([*args, "--db", ledger.db])
        lines = out.splitlines()
        assert max(len(line) for line in lines) <= 80, args
        assert "…" not in out
    listed = _piped(["invoice", "list", "--db", ledger.db])
    assert "23,040.00 USD" in listed  # amounts are exact and whole; long names fold, never cut


def test_a_draft_run_waits_for_invoice_issue(ledger: Ledger) -> None:
    said = text(ledger.ok("billing", "run", "--period", "2026-09", "--draft").stdout)
    assert "drafted 2 invoices" in said
    assert {i["state"] for i in ledger.json("invoice", "list", "--json")} == {"draft"}
    again = ledger.json("billing", "run", "--period", "2026-09", "--json")
    assert again["waiting_drafts"] == ["INV-acme-2026-09", f"INV-{TENANT}-2026-09"]
    sent = ledger.json("invoice", "issue", "INV-acme-2026-09", "--reason", "reviewed", "--json")
    assert [h["to"] for h in sent["history"]] == ["draft", "issued"]


def test_invoice_list_prints_every_invoice_past_one_page(ledger: Ledger) -> None:
    store = bootstrap.ledger_store(ledger.db)
    with store.writing() as w:
        for k in range(1_001):  # MAX_LIMIT + 1: two pages
            w.add_invoice(an_invoice(f"INV-t{k:04d}-2026-08", f"t{k:04d}", period("2026-08")))
    store.close()
    assert len(ledger.json("invoice", "list", "--json")) == 1_001


def test_a_piped_dry_run_fits_80_columns(ledger: Ledger) -> None:
    lines = _piped(["billing", "run", "--period", "2026-09", "--dry-run", "--db", ledger.db]).splitlines()
    assert "2026-09 (UTC): would issue 2 invoices, 0 credit notes" in lines[0]
    assert max(len(line) for line in lines) <= 80
