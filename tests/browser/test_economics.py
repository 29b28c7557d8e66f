"""The economics page in a real browser: the operator sees the TCO chart and table; a
tenant is refused and sees no cost."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Served, shot, sign_in
from tests.browser.test_dashboard import _charts_drawn

TENANT = "initech"


def test_the_operator_sees_the_tco_breakdown_chart_and_table(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    page.click("nav >> text=Economics")
    page.wait_for_url(f"{served.url}/economics")
    assert _charts_drawn(page) == 1
    result = served.services.cost.fleet_tco()
    assert page.inner_text("#fleet-tco") == f"{result.per_gpu_hour.amount:.2f}"
    assert page.locator("#tco-rows tbody tr").count() == len(result.rows) + 1  # and the fleet's row
    assert page.locator("#breakdown tbody tr").count() == len(result.lines) + 1  # and the total
    assert page.console.errors == []
    shot(page, "economics-operator")


def test_a_tenant_is_refused_the_economics_page_and_sees_no_cost(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.tenants[TENANT])
    assert page.locator("nav >> text=Economics").count() == 0
    response = page.goto(f"{served.url}/economics")
    assert response is not None
    assert response.status == 403
    assert "Operator only" in page.inner_text("main")
    total = served.services.cost.fleet_tco().per_gpu_hour.amount
    assert f"{total:.2f}" not in page.content()
    assert page.locator("canvas").count() == 0
    shot(page, "economics-tenant-refused")
