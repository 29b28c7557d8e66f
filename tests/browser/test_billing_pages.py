"""The billing pages in a real browser: the invoices page with the month-to-date
preview (the operator's every tenant, a tenant's own only), an invoice with the
evidence of its SLA credit and its downloads, the 404 page across tenants, and the
lease page's billing section; no serious accessibility violation on any of them.

The served demo has no invoice (its leases start now); ``billed`` serves the same demo
a month on with January invoiced (tests/billing_demo.py)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from neocloud.web.billing import PREVIEW_LABEL
from tests.billing_demo import billed_demo_app
from tests.browser.accessibility import report, violations
from tests.browser.conftest import Served, serving, shot, sign_in

THEIRS = "INV-frontier-lab-2027-01"


@pytest.fixture(scope="module")
def billed() -> Iterator[Served]:
    with serving(*billed_demo_app(), name="billed dashboard") as s:
        yield s


def _no_blocking_violation(page: Any, name: str) -> None:
    found = violations(page, name)
    assert not [v for v in found if v.blocking], report(found)


def test_the_operator_sees_the_month_so_far_for_every_tenant(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    page.click("nav >> text=Invoices")
    page.wait_for_url(f"{served.url}/invoices")
    assert page.locator("nav a.on").inner_text() == "Invoices"
    assert PREVIEW_LABEL in page.inner_text("#preview h2")
    preview = served.services.billing.preview()
    tenants = page.locator("#preview-totals tbody tr td:first-child").all_inner_texts()
    assert tenants == [i.tenant for i in preview.invoices]
    assert len(tenants) >= 2
    assert "No invoice yet" in page.inner_text("#invoices")
    shot(page, "invoices-operator-preview")
    _no_blocking_violation(page, "/invoices (operator)")
    assert page.console.errors == []


def test_a_tenant_sees_the_preview_of_its_own_lines_only(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.tenants["acme-ai"])
    page.goto(f"{served.url}/invoices")
    assert PREVIEW_LABEL in page.inner_text("#preview")
    main = page.inner_text("main")
    assert "frontier-lab" not in main
    assert "globex-research" not in main
    mine = {le.id for le in served.services.leasing.leases(tenant="acme-ai")}
    shown = set(page.locator("#preview a[href^='/leases/'] code").all_inner_texts())
    assert shown
    assert shown <= mine
    theirs = [i for i in served.services.billing.preview().invoices if i.tenant != "acme-ai"]
    assert theirs
    assert all(f"{i.total.amount:,}" not in main for i in theirs)
    shot(page, "invoices-tenant-preview")
    _no_blocking_violation(page, "/invoices (tenant)")


def test_an_invoice_shows_its_lines_adding_up_and_the_evidence_of_its_sla_credit(page: Any, billed: Served) -> None:
    sign_in(page, billed, billed.keys.tenants["frontier-lab"])
    page.goto(f"{billed.url}/invoices")
    page.click(f"#invoices a:has-text('{THEIRS}')")
    page.wait_for_url(f"{billed.url}/invoices/{THEIRS}")
    invoice = billed.services.billing.invoice(THEIRS)
    amounts = page.locator("#invoice-lines td.amount").all_inner_texts()
    assert sum(Decimal(a.replace(",", "")) for a in amounts) == invoice.total.amount
    assert page.inner_text("#invoice-total") == f"{invoice.total.amount:,}"
    [(k, credit)] = [(k, x) for k, x in enumerate(invoice.lines, start=1) if x.evidence]
    rows = page.locator(f"#evidence-{k} tbody tr")
    assert rows.count() == len(credit.evidence)
    assert {e.node for e in credit.evidence} == set(
        page.locator(f"#evidence-{k} tbody tr td:first-child").all_inner_texts()
    )
    assert "issued by the 2027-01 run" in page.inner_text("#invoice-history")
    with page.expect_download() as download:
        page.click("#download-csv")
    assert download.value.suggested_filename == f"{THEIRS}.csv"
    shot(page, "invoice-with-evidence")
    _no_blocking_violation(page, f"/invoices/{THEIRS}")
    assert page.console.errors == []


def test_another_tenants_invoice_is_the_not_found_page(page: Any, billed: Served) -> None:
    sign_in(page, billed, billed.keys.tenants["acme-ai"])
    response = page.goto(f"{billed.url}/invoices/{THEIRS}")
    assert response is not None
    assert response.status == 404
    assert "Not found" in page.inner_text("h1")
    assert "frontier-lab" in page.inner_text("main")  # only as the id asked for
    assert f"{billed.services.billing.invoice(THEIRS).total.amount:,}" not in page.inner_text("main")
    _no_blocking_violation(page, "/invoices/{another tenant's}")


def test_the_lease_page_shows_the_sla_month_by_month_with_the_month_so_far(page: Any, billed: Served) -> None:
    sign_in(page, billed, billed.keys.tenants["frontier-lab"])
    lease = next(le for le in billed.services.leasing.leases(tenant="frontier-lab") if le.degraded)
    page.goto(f"{billed.url}/leases/{lease.id}")
    months = page.locator("#lease-sla tbody tr td:first-child").all_inner_texts()
    assert months[0] == "2027-01"
    assert months[1].startswith("2027-02 so far")
    [credit] = [x for x in billed.services.billing.invoice(THEIRS).lines if x.evidence]
    assert (
        page.locator("#lease-sla tbody tr")
        .first.locator("td")
        .last.inner_text()
        .startswith(f"{credit.amount.amount:,}")
    )
    page.locator("#billing").scroll_into_view_if_needed()
    shot(page, "lease-billing")
    _no_blocking_violation(page, f"/leases/{lease.id} (billing)")
    assert page.console.errors == []
