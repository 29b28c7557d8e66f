"""The /deals page in a real browser: the operator's cash-flow chart draws and the
concentration table lists the book; a tenant is refused; no serious accessibility
violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from neocloud.cli.main import app
from neocloud.domain.leases import LIVE_STATES
from tests.browser.accessibility import report, violations
from tests.browser.conftest import WAIT_MS, Served, shot, sign_in


def _charts_drawn(page: Any) -> int:
    page.wait_for_function("document.documentElement.dataset.ready === '1'", timeout=WAIT_MS)
    drawn: int = page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas[data-chart]')).filter(c => {
            if (c.dataset.rendered !== '1' || !c.width || !c.height) return false;
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
            return false;
        }).length"""
    )
    return drawn


def test_the_operator_analyses_a_deal_and_sees_the_cash_flows_and_the_book(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    page.click("nav >> text=Deals")
    page.wait_for_url(f"{served.url}/deals")
    assert _charts_drawn(page) == 1
    tenants = {le.tenant for le in served.services.leasing.leases() if le.state in LIVE_STATES}
    rows = page.locator("#concentration tbody tr")
    assert rows.count() == len(tenants) + 2  # the book's tenants, the proposed deal, the total
    page.fill("input[name=monthly_fee]", "2500000")
    page.fill("input[name=price]", "")
    page.fill("input[name=ramp]", "0.5,0.5")
    page.fill("input[name=notice_days]", "90")
    page.fill("input[name=initial_months]", "3")
    page.click("#deal-form button[type=submit]")
    page.wait_for_selector("#deal-npv")
    assert _charts_drawn(page) == 1
    assert "after the earliest exit" in page.inner_text("#deal-figures")
    shot(page, "deals-operator")
    found = violations(page, "/deals")
    assert not [v for v in found if v.blocking], report(found)
    assert page.console.errors == []


def test_a_bad_deal_shows_what_is_wrong(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    response = page.goto(f"{served.url}/deals?ramp=3&start=2027-01-10")
    assert response is not None
    assert response.status == 422
    assert "ramp[0]: 3 is not a fraction" in page.inner_text("#deal-problems")


def test_a_tenant_gets_403_and_no_deals_link(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.tenants["acme-ai"])
    assert page.locator("nav >> text=Deals").count() == 0
    response = page.goto(f"{served.url}/deals")
    assert response is not None
    assert response.status == 403
    assert "Operator only" in page.inner_text("main")
    assert page.locator("#concentration").count() == 0


def test_the_html_file_of_plan_deal_draws_its_chart_offline(page: Any, tmp_path: Path) -> None:
    out = tmp_path / "deal.html"
    args = ["plan", "deal", "--preset", "demo", "--site", "demo-west", "--tenant", "newco", "--monthly-fee", "1M"]
    result = CliRunner().invoke(app, [*args, "--start", "2027-01-01", "--end", "2028-01-01", "--html", str(out)])
    assert result.exit_code == 0, result.output
    page.route("http*://**", lambda route: route.abort())  # nothing may be fetched
    page.goto(out.as_uri())
    assert _charts_drawn(page) == 1
    assert page.console.errors == []
