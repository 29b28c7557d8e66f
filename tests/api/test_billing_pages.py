"""The dashboard's billing pages through the app (no browser): a tenant sees its own
invoices and the preview of its own month only, another tenant's invoice and its
downloads are the 404 page, and what a page shows adds up."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from neocloud.domain.clock import to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.services.billing_export import invoice_csv, invoice_document
from neocloud.services.container import Services
from neocloud.services.demo import DemoKeys
from neocloud.web.billing import PREVIEW_LABEL
from neocloud.web.routes import COOKIE
from neocloud.web.views import short_time
from tests.api.conftest import World
from tests.billing_demo import billed_demo_app

TAG = re.compile(r"<[^>]+>")
THEIRS = "INV-frontier-lab-2027-01"
HOUR, DAY = 3600, 86_400
FEB_1 = to_s(datetime(2027, 2, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def billed() -> Iterator[tuple[TestClient, Services, DemoKeys]]:
    app, services, keys = billed_demo_app()
    with TestClient(app) as client:
        yield client, services, keys


def _as(client: TestClient, token: str) -> TestClient:
    client.cookies.set(COOKIE, token)
    return client


def _cells(page: str, table_id: str, column: int) -> list[str]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, table_id
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [html.unescape(TAG.sub("", re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)[column])).strip() for r in rows]


def test_a_tenant_asking_for_another_tenants_invoice_gets_the_not_found_page_and_no_download(billed) -> None:
    client, services, keys = billed
    client = _as(client, keys.tenants["acme-ai"])
    theirs = services.billing.invoice(THEIRS)
    for path in (f"/invoices/{THEIRS}", f"/invoices/{THEIRS}.csv", f"/invoices/{THEIRS}.json"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert f"There is no invoice {THEIRS} that you can see." in r.text
        assert f"{theirs.total.amount:,}" not in r.text
    assert client.get("/invoices/INV-nope").status_code == 404


def test_a_tenants_invoices_page_lists_its_own_invoices_and_previews_its_own_month(billed) -> None:
    client, services, keys = billed
    r = _as(client, keys.tenants["acme-ai"]).get("/invoices")
    assert r.status_code == 200
    main = r.text.split("<main>")[1]
    assert _cells(main, "invoices", 0) == ["INV-acme-ai-2027-01"]
    assert PREVIEW_LABEL in main
    assert "2027-02 so far" in main
    preview = services.billing.preview()
    for other in ("frontier-lab", "globex-research", "initech"):
        assert other not in main
        assert all(f"{i.total.amount:,}" not in main for i in preview.invoices if i.tenant == other)


def test_the_operator_sees_every_tenants_invoices_and_preview_with_the_tenant_column(billed) -> None:
    client, services, keys = billed
    r = _as(client, keys.operator).get("/invoices")
    tenants = sorted({i.tenant for i in services.billing.invoices().items})
    assert sorted(_cells(r.text, "invoices", 1)) == tenants
    assert sorted(_cells(r.text, "preview-totals", 0)) == sorted(i.tenant for i in services.billing.preview().invoices)


def test_the_invoice_pages_total_is_the_sum_of_the_lines_it_shows(billed) -> None:
    client, services, keys = billed
    r = _as(client, keys.tenants["frontier-lab"]).get(f"/invoices/{THEIRS}")
    assert r.status_code == 200
    amounts = [Decimal(a.replace(",", "")) for a in _cells(r.text, "invoice-lines", 6)]
    shown = html.unescape(TAG.sub("", re.search(r'id="lines-total">(.*?)</td>', r.text, re.S).group(1)))
    assert sum(amounts) == Decimal(shown.split()[0].replace(",", "")) == services.billing.invoice(THEIRS).total.amount
    invoice = services.billing.invoice(THEIRS)
    credit = next(k for k, line in enumerate(invoice.lines, start=1) if line.evidence)
    assert len(_cells(r.text, f"evidence-{credit}", 0)) == len(invoice.lines[credit - 1].evidence)


def test_the_downloads_are_the_apis_exports(billed) -> None:
    client, services, keys = billed
    client = _as(client, keys.tenants["frontier-lab"])
    invoice = services.billing.invoice(THEIRS)
    csv = client.get(f"/invoices/{THEIRS}.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"] == f'attachment; filename="{THEIRS}.csv"'
    assert csv.text == invoice_csv(invoice)
    assert json.loads(client.get(f"/invoices/{THEIRS}.json").text) == invoice_document(invoice)


def test_the_lease_page_shows_the_sla_by_month_and_januarys_credit_is_the_invoices(billed) -> None:
    client, services, keys = billed
    lease = next(le for le in services.leasing.leases(tenant="frontier-lab") if le.degraded)
    r = _as(client, keys.tenants["frontier-lab"]).get(f"/leases/{lease.id}")
    months = _cells(r.text, "lease-sla", 0)
    assert months[0] == "2027-01"
    assert months[1].startswith("2027-02 so far, to 2027-02-03 09:00")
    [credit] = [x for x in services.billing.invoice(THEIRS).lines if x.evidence]
    assert _cells(r.text, "lease-sla", 7)[0] == f"{credit.amount.amount:,} (30%)"  # the lease's own tiers
    terms = "SLA 99.5%: credit 5% below 99.5, 15% below 98, 30% below 95, 100% below 90; cap 50%"
    assert f"Signed with: {terms}" in r.text
    assert _cells(r.text, "lease-amendments", 0) == ["No amendments: the contract is as booked."]


def test_the_billing_pages_ask_for_a_sign_in(billed) -> None:
    client, _, _ = billed
    client.cookies.clear()
    for path in ("/invoices", f"/invoices/{THEIRS}", f"/invoices/{THEIRS}.csv"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")


def test_the_lease_page_lists_its_swap_extension_and_shrink_with_the_gpus_either_side(world: World) -> None:
    leasing = world.services.leasing
    lease = leasing.leases(tenant="acme-ai")[0]  # the demo healed a failure of it from a spare: a swap
    world.clock.advance(days=1)
    leasing.extend(lease.id, lease.end_s + 30 * DAY, actor="ops")
    cut = to_s(world.clock.now()) + 10 * DAY
    leasing.shrink(lease.id, 64, cut, actor="ops")
    r = _as(world.client, world.keys.operator).get(f"/leases/{lease.id}")
    assert _cells(r.text, "lease-amendments", 0) == ["swap", "extend", "shrink"]
    assert _cells(r.text, "lease-amendments", 4) == ["128 → 128", "0 → 128", "128 → 64"]  # at the old end; the cut
    [swap] = [a for a in leasing.leases(tenant="acme-ai")[0].amendments if a.kind.value == "swap"]
    assert _cells(r.text, "lease-amendments", 6)[0] == ", ".join(f"{o} -> {n}" for o, n in swap.nodes)
    ends = _cells(r.text, "lease-amendments", 5)
    assert ends[1] == f"{short_time(lease.end_s)} → {short_time(lease.end_s + 30 * DAY)}"


def test_the_invoices_page_previews_the_credit_note_a_late_report_for_january_needs(world: World) -> None:
    leasing, billing = world.services.leasing, world.services.billing
    start = to_s(world.clock.now()) + 60
    shape = Shape(("H100",), gpus=8, locality=Locality.BLOCK)
    lease, _ = leasing.create(
        LeaseRequest("acme-ai", shape, start, FEB_1 + 28 * DAY, Money(Decimal("2.00"))), actor="t"
    )
    node = next(b.node for b in leasing.lease_bookings(lease.id) if b.holder == lease.id)
    world.clock.set(datetime.fromtimestamp(FEB_1 + HOUR, UTC))
    billing.run("2027-01", actor="ops")
    world.clock.set(datetime.fromtimestamp(FEB_1 + 2 * DAY, UTC))
    leasing.set_health(node, Health.FAILED, at_s=FEB_1 - DAY, actor="ops", reason="found late")
    r = _as(world.client, world.keys.tenants["acme-ai"]).get("/invoices")
    assert _cells(r.text, "preview-notes", 1) == ["INV-acme-ai-2027-01"]
    assert _cells(r.text, "credit-notes", 0) == ["No credit notes."]  # nothing issued: a preview
