"""The dashboard in a real browser: every page loads, charts draw, tenants are kept apart."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from neocloud.domain.clock import to_s
from neocloud.web.views import HIDDEN_STATES, tick_label_width
from tests.browser.conftest import WAIT_MS, Served, shot, sign_in


def _charts_drawn(page: Any) -> int:
    """How many chart canvases were drawn with something on them (non-blank pixels)."""
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


def test_sign_in_required(page: Any, served: Served) -> None:
    page.goto(f"{served.url}/timeline")
    assert page.url.startswith(f"{served.url}/login")
    page.fill("#api_key", "nc_nope_nope")
    page.click("button[type=submit]")
    assert "invalid or revoked" in page.inner_text(".error")
    shot(page, "login-error")
    assert page.console.errors == [] or all("401" in e for e in page.console.errors)


def test_operator_sees_every_page(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    assert page.locator("#sites tbody tr").count() == 3  # two sites and the total
    assert _charts_drawn(page) == 2
    shot(page, "overview-operator")
    for path, name, selector in [
        ("/timeline", "timeline-operator", "svg#gantt a.bar-link"),
        ("/nodes", "nodes", "#nodes tbody tr"),
        ("/nodes?state=failed", "nodes-failed", "#nodes tbody tr"),
        ("/events", "events", "table.events tbody tr"),
    ]:
        response = page.goto(f"{served.url}{path}")
        assert response is not None
        assert response.status == 200, path
        assert page.locator(selector).count() > 0, path
        shot(page, name)
    assert page.locator("#nodes").count() == 0
    page.goto(f"{served.url}/nodes?state=failed")
    unhealthy = [n for n in served.services.leasing.fleet().nodes if n.health.value == "failed"]
    assert page.locator("#nodes tbody tr").count() == len(unhealthy) > 0
    failed = page.locator("#nodes tbody tr a").first
    failed.click()
    page.wait_for_url("**/nodes/*")
    assert "node.failed" in page.inner_text("table.events")
    shot(page, "node-failed")
    assert page.console.errors == []


def test_timeline_leads_to_the_lease(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    page.goto(f"{served.url}/timeline")
    bars = page.locator("svg#gantt a.bar-link")
    lease_ids = {bars.nth(k).get_attribute("data-lease") for k in range(bars.count())}
    live = {le.id for le in served.services.leasing.leases() if le.state not in HIDDEN_STATES}
    assert lease_ids == live
    assert page.locator("svg#gantt .mark").count() >= 1  # the failures are marked
    degraded = next(le for le in served.services.leasing.leases() if le.degraded)
    page.locator(f"svg#gantt a.bar-link[data-lease='{degraded.id}'] rect").first.click()
    page.wait_for_url(f"{served.url}/leases/{degraded.id}")
    assert degraded.id in page.inner_text("h1")
    assert page.locator("#lease-nodes tbody tr").count() > 0
    assert _charts_drawn(page) == 1
    shot(page, "lease-degraded")
    assert page.console.errors == []


@pytest.mark.parametrize("who", ["operator", "frontier-lab"])
def test_a_degraded_lease_shows_its_missing_gpus_and_delivered_percent(page: Any, served: Served, who: str) -> None:
    leasing = served.services.leasing
    lease = next(le for le in leasing.leases() if le.degraded)
    now = to_s(served.services.clock.now())
    held = {b.node for b in leasing.show(lease.id).bookings if b.kind.value == "lease" and b.start_s <= now < b.end_s}
    healthy = sum(n.gpu_count for n in leasing.fleet().nodes if n.id in held and n.health.value == "healthy")
    missing = lease.contracted_at(now) - healthy
    assert missing > 0
    sign_in(page, served, served.keys.operator if who == "operator" else served.keys.tenants[lease.tenant])
    page.goto(f"{served.url}/leases/{lease.id}")
    assert page.inner_text("#missing-now") == f"{missing:,}"
    assert page.inner_text("#delivered-pct") not in {"100%", "-"}
    assert _charts_drawn(page) == 1
    shot(page, f"lease-shortfall-{who}")
    assert page.console.errors == []


@pytest.mark.parametrize("who", ["operator", "initech"])
def test_a_lease_that_has_not_started_says_so_and_draws_no_chart(page: Any, served: Served, who: str) -> None:
    now = to_s(served.services.clock.now())
    lease = next(
        le for le in served.services.leasing.leases(tenant="initech") if le.start_s > now and le.state.value == "held"
    )
    sign_in(page, served, served.keys.operator if who == "operator" else served.keys.tenants["initech"])
    page.goto(f"{served.url}/leases/{lease.id}")
    assert "Not started" in page.inner_text("#delivery-note")
    assert page.locator("#delivery canvas").count() == 0
    shot(page, f"lease-not-started-{who}")
    assert page.console.errors == []


@pytest.mark.parametrize("months", [12, 24])
def test_timeline_month_labels_do_not_overlap_as_drawn(page: Any, served: Served, months: int) -> None:
    sign_in(page, served, served.keys.operator)
    page.goto(f"{served.url}/timeline?months={months}")
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('svg#gantt text.ticklabel')).map(t => {
            const b = t.getBBox();
            return {text: t.textContent, x: b.x, right: b.x + b.width, width: b.width};
        })"""
    )  # in the SVG's own units, as the view model computes them
    assert len(boxes) >= 6
    for box in boxes:
        assert box["width"] <= tick_label_width(box["text"]), box  # the model's bound holds for the real font
    for a, b in itertools.pairwise(boxes):
        assert a["right"] < b["x"], (a, b)
    shot(page, f"timeline-{months}-months")


def test_tenant_sees_only_its_leases(page: Any, served: Served) -> None:
    tenant = "acme-ai"
    sign_in(page, served, served.keys.tenants[tenant])
    assert page.locator("#sites").count() == 0  # no fleet-wide operator table
    assert _charts_drawn(page) == 1
    shot(page, "overview-tenant")
    page.goto(f"{served.url}/timeline")
    bars = page.locator("svg#gantt a.bar-link")
    ids = {bars.nth(k).get_attribute("data-lease") for k in range(bars.count())}
    own = {le.id for le in served.services.leasing.leases(tenant=tenant) if le.state not in HIDDEN_STATES}
    assert ids == own
    shot(page, "timeline-tenant")
    bars.first.click()
    page.wait_for_url("**/leases/*")
    assert _charts_drawn(page) == 1
    shot(page, "lease-tenant")
    page.goto(f"{served.url}/events")
    subjects = set(page.locator("table.events tbody td:nth-child(4) code").all_inner_texts())
    leases_named = {x for x in subjects if x.startswith("L-")}
    assert leases_named <= own  # lease events: only the tenant's own
    leasing = served.services.leasing
    held = {b.node for le in leasing.leases(tenant=tenant) for b in leasing.show(le.id).bookings}
    own_keys = {k.id for k in served.services.keys.list() if k.tenant == tenant}
    # its tenant.added event, its keys' key.created, its nodes' health
    assert subjects - leases_named <= {tenant} | held | own_keys
    assert page.console.errors == []
    other = next(le for le in served.services.leasing.leases() if le.tenant != tenant)
    response = page.goto(f"{served.url}/leases/{other.id}")
    assert response is not None
    assert response.status == 404
    assert other.tenant not in page.content()
    shot(page, "lease-other-tenant-404")


def test_sign_out(page: Any, served: Served) -> None:
    sign_in(page, served, served.keys.operator)
    page.click("a.signout")
    page.wait_for_url("**/login")
    page.goto(f"{served.url}/")
    assert page.url.startswith(f"{served.url}/login")
    cookies = page.context.cookies()
    assert all(c["name"] != "neocloud_key" for c in cookies)


def test_a_step_chart_holds_each_value_from_its_point_until_the_next(page: Any, served: Served) -> None:
    """The overview's free-GPU chart is a step series: between two points the line sits at
    the EARLIER point's value (Chart.js's stepped 'after' drew the later one there, so a
    change showed one interval early)."""
    sign_in(page, served, served.keys.operator)
    page.goto(f"{served.url}/")
    page.wait_for_function("document.documentElement.dataset.ready === '1'", timeout=WAIT_MS)
    checked = page.evaluate(
        """() => {
        let checked = 0, wrong = 0;
        for (const canvas of document.querySelectorAll('canvas[data-chart]')) {
          const chart = window.Chart.getChart(canvas);
          if (!chart || chart.config.type !== 'line') continue;
          const ctx = canvas.getContext('2d');
          const ratio = chart.currentDevicePixelRatio;
          chart.data.datasets.forEach((d, k) => {
            if (!chart.isDatasetVisible(k)) return;
            for (let i = 0; i + 1 < d.data.length; i++) {
              const a = d.data[i], b = d.data[i + 1];
              const xa = chart.scales.x.getPixelForValue(a.x), xb = chart.scales.x.getPixelForValue(b.x);
              const ya = chart.scales.y.getPixelForValue(a.y), yb = chart.scales.y.getPixelForValue(b.y);
              if (a.y === b.y || xb - xa < 12 || Math.abs(yb - ya) < 8) continue;
              const x = Math.round(((xa + xb) / 2) * ratio);
              const ink = (y) => {
                let m = 0;
                for (let dy = -2; dy <= 2; dy++) {
                  m = Math.max(m, ctx.getImageData(x, Math.round(y * ratio) + dy, 1, 1).data[3]);
                }
                return m;
              };
              if (ink(ya) < 100) wrong += 1;  // the earlier value is not drawn there
              checked += 1;
              return;
            }
          });
        }
        return [checked, wrong];
      }"""
    )
    assert checked[0] >= 1
    assert checked[1] == 0, checked
