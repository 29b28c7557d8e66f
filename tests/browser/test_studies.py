"""The studies pages in Chromium: the operator opens the list from the nav, the
keep-vs-lease study's frontier and table, and the sweep's chart and means (screenshots
under artifacts/screenshots); a tenant has no Studies link and gets the refusal page."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Served, shot, sign_in


def _drawn(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box  # type: ignore[no-any-return]


def test_the_operator_opens_a_keep_vs_lease_study_and_a_sweep_from_the_list(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    page.click("nav >> text=Studies")
    page.wait_for_url("**/studies")
    rows = page.locator("#studies tbody tr")
    assert rows.count() >= 2
    assert "done" in page.inner_text("#studies")
    shot(page, "studies")
    page.click("#studies >> text=demo-keep-vs-lease")
    page.wait_for_url("**/studies/S-*")
    frontier = _drawn(page, "svg.frontier")
    assert frontier["width"] > 600
    assert frontier["height"] > 250
    assert page.locator("svg.frontier circle").count() == 3  # a point per fraction
    assert "delay bound" in page.locator("svg.frontier").text_content()
    assert page.locator("table[aria-label='per fraction leased'] tr").count() == 4  # the head and 3 fractions
    assert "Recommendation" in page.inner_text("#recommendation")
    shot(page, "study-keep-vs-lease")
    page.go_back()
    page.click("#studies >> text=demo-sweep")
    page.wait_for_url("**/studies/S-*")
    _drawn(page, "svg.sweep")
    assert page.locator("svg.sweep polyline").count() == 8  # 4 policies x 2 lease fractions
    assert page.locator("table[aria-label='mean over the seeds'] tr").count() == 25  # the head and 24 settings
    shot(page, "study-sweep")
    assert page.console.errors == []


def test_a_tenant_has_no_studies_link_and_gets_the_refusal_page(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.tenants["acme-ai"])
    assert page.locator("nav >> text=Studies").count() == 0
    response = page.goto(f"{served.url}/studies")
    assert response is not None
    assert response.status == 403
    assert "operator" in page.inner_text("main")
    assert page.locator("#studies").count() == 0
