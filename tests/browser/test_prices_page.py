"""The price-book page in a real browser: the rate cards in force for everyone; the
versions and the margin over TCO for the operator only."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Served, shot, sign_in


def test_the_operator_sees_rate_cards_versions_and_the_margin_table(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    response = page.goto(f"{served.url}/prices")
    assert response is not None
    assert response.status == 200
    assert page.locator("nav a.on").inner_text() == "Prices"
    rows = page.locator("#rate-cards tbody tr")
    assert rows.count() == len(served.services.pricing.versions()[0].cards.models()) * 11  # 1 + 8 + 1 + 1 per model
    assert "3.99" in page.locator("#rate-cards").inner_text()
    assert page.locator("#versions tbody tr").count() == len(served.services.pricing.versions())
    assert page.locator("#margins tbody tr").count() > 0
    shot(page, "prices-operator")
    assert page.console.errors == []


def test_a_tenant_sees_the_rate_cards_and_nothing_of_cost_margin_or_history(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.tenants["acme-ai"])
    page.goto(f"{served.url}/prices")
    assert page.locator("#rate-cards tbody tr").count() > 0
    assert page.locator("#margins").count() == 0
    assert page.locator("#versions").count() == 0
    body = page.inner_text("main")
    assert "TCO" not in body
    assert "margin" not in body.lower()
    shot(page, "prices-tenant")
