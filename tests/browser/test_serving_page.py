"""The serving plan page in a real browser: a tenant plans from its own lease, sees the
tokens/s chart and the limit tables, and cannot plan from another tenant's lease."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Served, shot, sign_in
from tests.conftest import SHARED

MODEL = "meta-llama/Meta-Llama-3.1-70B"


@pytest.fixture
def silicon() -> None:
    if not (SHARED / "reference" / "serving-silicon" / "model_configs").is_dir():
        pytest.skip("serving-silicon not found (../shared/reference beside the repo)")


def _lease_of(served: Served, tenant: str) -> str:
    return next(le.id for le in served.services.leasing.leases(tenant=tenant) if le.state.value == "active")


def test_a_tenant_plans_from_its_own_lease_and_sees_the_chart_and_tables(
    page: Any, served: Served, silicon: None
) -> None:
    sign_in(page, served, served.keys.tenants["acme-ai"])
    page.goto(f"{served.url}/serving")
    options = page.locator("select[name=lease] option").all_inner_texts()
    assert all("acme-ai" in o for o in options[1:])
    assert len(options) > 1
    page.select_option("select[name=lease]", _lease_of(served, "acme-ai"))
    page.fill("input[name=model]", MODEL)
    page.click("#serving-form button[type=submit]")
    page.wait_for_selector("#serving-models-table")
    page.wait_for_function("document.documentElement.dataset.ready === '1'", timeout=WAIT_MS)
    assert page.locator("canvas#serving-chart[data-rendered='1']").count() == 1
    assert page.locator("canvas#measured-chart[data-rendered='1']").count() == 1  # the dev set has Llama 70B
    rows = page.locator("#serving-models-table tbody tr").all_inner_texts()
    assert len(rows) == 1
    assert rows[0].startswith("H100")
    assert "not served" not in rows[0]
    assert page.locator("#serving-tiers tbody tr").count() == 2
    assert page.locator("#serving-plans tbody tr").count() == 2
    shot(page, "serving-tenant")
    assert page.console.errors == []


def test_another_tenants_lease_is_not_found_on_the_page(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.tenants["acme-ai"])
    response = page.goto(f"{served.url}/serving?lease={_lease_of(served, 'frontier-lab')}&model={MODEL}")
    assert response.status == 404


def test_a_bad_number_is_named_on_the_page_and_nothing_is_planned(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    page.goto(f"{served.url}/serving?gpus=H100%3D64&isl=lots&model={MODEL}")
    assert "isl: must be a number" in page.inner_text("#serving-errors")
    assert page.locator("#serving-models-table").count() == 0
