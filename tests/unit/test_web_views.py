"""The dashboard's view models, and its pages through TestClient: status codes,
sign-in, and tenant isolation."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from neocloud.domain.changes import EventQuery
from neocloud.domain.clock import to_s
from neocloud.domain.fleet import Fleet, Node
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest, LeaseState, Segment
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.shape import Shape
from neocloud.leasing.delivered import CapacityPoint
from neocloud.services.container import Services
from neocloud.services.demo import DemoKeys
from neocloud.web import views
from neocloud.web.routes import COOKIE, _safe_next
from tests.web_demo import DAY, demo_app, demo_services


@pytest.fixture(scope="module")
def demo() -> tuple[Services, DemoKeys]:
    services, keys, _ = demo_services()
    return services, keys


@pytest.fixture(scope="module")
def app_and_keys() -> Iterator[tuple[TestClient, Services, DemoKeys]]:
    app, services, keys = demo_app()
    with TestClient(app) as client:
        yield client, services, keys


def _client(app_and_keys: tuple[TestClient, Services, DemoKeys], token: str | None) -> TestClient:
    client, _, _ = app_and_keys
    fresh = TestClient(client.app)
    if token is not None:
        response = fresh.post("/login", data={"api_key": token, "next": "/"}, follow_redirects=False)
        assert response.status_code == 303
    return fresh


# -- view models ----------------------------------------------------------------------
def test_site_rows_count_every_gpu_once(demo: tuple[Services, DemoKeys]) -> None:
    services, _ = demo
    now = to_s(services.clock.now())
    fleet = services.leasing.fleet()
    rows, total = views.site_rows(fleet, services.leasing.bookings(now, now + 1), now)
    assert [r.name for r in rows] == [s.name for s in fleet.sites]
    for row in rows:
        assert sum(row.by_category.values()) == row.gpus
        assert row.power_budget_mw is not None
        assert 0 < row.power_used_mw <= row.power_budget_mw
    assert total.gpus == fleet.gpu_count == sum(total.by_category.values())
    east = next(r for r in rows if r.name == "demo-east")
    assert east.by_category["free"] == 0  # leased whole to frontier-lab
    assert east.by_category["leased"] > 0
    assert east.by_category["failed"] > 0  # the NVLink failure, and the preset's broken nodes
    west = next(r for r in rows if r.name == "demo-west")
    assert west.by_category["internal"] == 128
    assert west.by_category["leased"] == 128 + 0  # acme started; globex starts later
    assert 0 < total.utilization_pct < 100


def test_the_failed_count_holds_failed_nodes_only_and_degraded_ones_have_their_own(
    demo: tuple[Services, DemoKeys],
) -> None:
    services, _ = demo
    now = to_s(services.clock.now())
    fleet = services.leasing.fleet()
    _, total = views.site_rows(fleet, services.leasing.bookings(now, now + 1), now)
    gpus_in = {h: sum(n.gpu_count for n in fleet.nodes if n.health is h) for h in Health}
    assert gpus_in[Health.DEGRADED] > 0  # the demo has degraded nodes, so the two can differ
    assert total.by_category["failed"] == gpus_in[Health.FAILED]
    assert total.by_category["degraded"] == gpus_in[Health.DEGRADED]
    assert total.by_category["retired"] == gpus_in[Health.RETIRED]


def test_node_category_puts_health_before_the_holder() -> None:
    node = _fleet_nodes()[0]
    node.health = Health.HEALTHY
    held = Booking(1, node.id, 0, 10, HolderKind.LEASE, "L-1")
    assert views.node_category(node, held) == "leased"
    assert views.node_category(node, None) == "free"
    node.health = Health.FAILED
    assert views.node_category(node, held) == "failed"
    node.health = Health.DEGRADED
    assert views.node_category(node, held) == "degraded"
    node.health = Health.RETIRED
    assert views.node_category(node, None) == "retired"
    node.health = Health.MAINTENANCE
    assert views.node_category(node, None) == "maintenance"
    node.health = Health.HEALTHY
    assert views.node_category(node, Booking(2, node.id, 0, 10, HolderKind.POOL, "train")) == "internal"
    assert views.node_category(node, Booking(3, node.id, 0, 10, HolderKind.SPARE, "L-1")) == "spare"


def _fleet_nodes() -> list[Node]:
    return _demo_fleet().nodes


def _demo_fleet() -> Fleet:
    services, _, _ = demo_services()
    return services.leasing.fleet()


def a_lease(gpus: int, start_s: int, end_s: int, state: LeaseState = LeaseState.ACTIVE) -> Lease:
    request = LeaseRequest("acme", Shape(("H100",), gpus=gpus), start_s, end_s, Money(Decimal("2.00")))
    return Lease("L-1", request, state, "H100", (Segment(start_s, end_s, gpus),), start_s - DAY)


T0 = to_s(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))


def test_a_40_gpu_loss_on_a_230k_gpu_lease_shows_as_40_missing_gpus() -> None:
    lease = a_lease(230_000, T0, T0 + 365 * DAY)
    capacity = [CapacityPoint(T0, 230_000, 230_000), CapacityPoint(T0 + DAY, 230_000, 229_960)]
    now = T0 + 2 * DAY
    shortfall = views.shortfall(lease, capacity, now)
    assert shortfall.status == "measured"
    assert (shortfall.missing_now, shortfall.contracted_now) == (40, 230_000)
    assert (shortfall.worst_missing, shortfall.worst_at_s) == (40, T0 + DAY)
    assert shortfall.missing_gpu_hours == 40 * 24
    assert shortfall.delivered_pct == "99.99%"  # 40 GPUs for one day of two: 99.9913%, rounded down
    assert shortfall.delivered_pct_now == "99.98%"  # 40 of 230,000: 99.9826%
    chart = shortfall.chart
    assert chart is not None
    (missing,) = chart["datasets"]  # type: ignore[misc]
    assert [(p["x"], p["y"]) for p in missing["data"]] == [(T0 * 1000, 0), ((T0 + DAY) * 1000, 40), (now * 1000, 40)]
    assert missing["data"][1]["note"] == "99.98% delivered"
    assert chart["ymax"] == 40  # the axis is the shortfall's, not the contract's 0-250k
    assert (chart["xmin"], chart["xmax"]) == (T0 * 1000, now * 1000)  # what was measured, not the term


def test_a_lease_delivered_in_full_shows_nothing_missing() -> None:
    lease = a_lease(64, T0, T0 + 30 * DAY)
    shortfall = views.shortfall(lease, [CapacityPoint(T0, 64, 64)], T0 + 3600)
    assert (shortfall.missing_now, shortfall.worst_missing, shortfall.worst_at_s) == (0, 0, None)
    assert shortfall.delivered_pct == shortfall.delivered_pct_now == "100%"
    assert shortfall.chart is not None
    assert shortfall.chart["ymax"] == 1  # a visible zero line, not an axis collapsed to a point


def test_a_lease_that_has_not_started_says_so_instead_of_a_single_dot() -> None:
    lease = a_lease(64, T0 + 7 * DAY, T0 + 30 * DAY, LeaseState.CONFIRMED)
    # what the service measures before the start: one point, at the start
    shortfall = views.shortfall(lease, [CapacityPoint(lease.start_s, 64, 64)], T0)
    assert shortfall.status == "not_started"
    assert shortfall.chart is None
    assert shortfall.message == "Not started: it starts 2027-01-11 09:00 UTC; delivery is measured from then."


@pytest.mark.parametrize("state", [LeaseState.CANCELLED, LeaseState.EXPIRED])
def test_a_lease_cancelled_or_expired_before_its_start_never_started(state: LeaseState) -> None:
    lease = a_lease(64, T0, T0 + 30 * DAY, state)
    shortfall = views.shortfall(lease, [CapacityPoint(T0, 64, 0)], T0 + 5 * DAY)
    assert shortfall.status == "never_started"
    assert shortfall.chart is None
    assert shortfall.message == f"Never started: {state.value} before its start (2027-01-04 09:00 UTC)."


def test_an_ended_lease_is_measured_to_its_end() -> None:
    lease = a_lease(64, T0, T0 + 10 * DAY, LeaseState.ENDED)
    capacity = [CapacityPoint(T0, 64, 64), CapacityPoint(T0 + 5 * DAY, 64, 32)]
    shortfall = views.shortfall(lease, capacity, T0 + 40 * DAY)
    assert shortfall.measured_to_s == lease.end_s
    assert shortfall.missing_gpu_hours == 32 * 5 * 24
    assert shortfall.delivered_pct == "75.00%"
    assert shortfall.chart is not None
    assert shortfall.chart["xmax"] == lease.end_s * 1000


def test_delivered_percent_never_rounds_a_shortfall_up_to_100() -> None:
    assert views.delivered_percent(0, 230_000) == "100%"
    assert views.delivered_percent(40, 230_000) == "99.98%"
    assert views.delivered_percent(1, 230_000) == "99.99%"  # 99.99957%: down, never up to 100
    assert views.delivered_percent(1, 10**12) == "99.99%"
    assert views.delivered_percent(32, 64) == "50.00%"
    assert views.delivered_percent(0, 0) == "-"


def test_timeline_rows_and_marks(demo: tuple[Services, DemoKeys]) -> None:
    services, _ = demo
    now = to_s(services.clock.now())
    window = views.timeline_window(now, 6)
    assert window[0] < now < window[1]
    leases = services.leasing.leases()
    shown = [le for le in leases if le.state not in views.HIDDEN_STATES]
    events = services.leasing.events(EventQuery(limit=1000))
    timeline = views.build_timeline(
        services.leasing.fleet(),
        leases,
        services.leasing.bookings(*window),
        failures=views.failure_times(events),
        colors=views.tenant_colors(services.leasing.tenants()),
        window=window,
        now_s=now,
        operator=True,
    )
    assert timeline.lease_count == len(shown)
    bars = {bar.lease_id: bar for lane in timeline.lanes for row in lane.rows for bar in row.bars if bar.lease_id}
    degraded = next(le for le in shown if le.degraded)
    assert bars[degraded.id].degraded
    assert bars[degraded.id].marks  # its node failure is marked
    assert bars[degraded.id].href == f"/leases/{degraded.id}"
    held = next(le for le in shown if le.tenant == "initech")
    assert bars[held.id].held
    labels = [row.label for lane in timeline.lanes for row in lane.rows]
    assert "pool internal-training" in labels
    assert "maintenance" in labels
    for bar in bars.values():
        assert timeline.label_w <= bar.x <= timeline.width
    tenant_view = views.build_timeline(
        services.leasing.fleet(),
        [le for le in leases if le.tenant == "acme-ai"],
        [],
        failures=[],
        colors=views.tenant_colors(services.leasing.tenants()),
        window=window,
        now_s=now,
        operator=False,
    )
    assert {row.label for lane in tenant_view.lanes for row in lane.rows} == {"acme-ai"}


def _timeline_of(months: int, now: int) -> views.Timeline:
    window = views.timeline_window(now, months)
    return views.build_timeline(_demo_fleet(), [], [], failures=[], colors={}, window=window, now_s=now, operator=True)


@pytest.mark.parametrize("months", [3, 6, 12, 18, 24])
def test_timeline_month_labels_never_overlap(months: int) -> None:
    now = to_s(datetime(2027, 1, 6, 9, 0, tzinfo=UTC))
    timeline = _timeline_of(months, now)
    gridlines = [x for x, _ in timeline.ticks]
    labelled = [(x, label) for x, label in timeline.ticks if label]
    assert len(gridlines) >= months  # a line at every month
    assert len(labelled) >= 3
    for (x, label), (next_x, _) in itertools.pairwise(labelled):
        assert x + views.tick_label_width(label) + views.TICK_GAP <= next_x, (months, label)
    last_x, last = labelled[-1]
    assert last_x + views.TICK_DX + views.tick_label_width(last) <= timeline.width
    if months <= 6:  # room for every month's name, but perhaps the last one's at the right edge
        assert [x for x, _ in labelled] == gridlines[: len(labelled)]
        assert len(labelled) >= len(gridlines) - 1


def test_timeline_labels_thin_to_calendar_steps_at_24_months() -> None:
    timeline = _timeline_of(24, to_s(datetime(2027, 1, 6, 9, 0, tzinfo=UTC)))
    months = [label.split()[0] for _, label in timeline.ticks if label]
    assert len(months) < len(timeline.ticks)  # thinned: some gridlines have no name
    step = {("Jan", "Mar"): 2, ("Jan", "Apr"): 3}[(months[0], months[1])]
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert all(names.index(m) % step == 0 for m in months)


def test_tick_label_width_grows_with_the_text() -> None:
    assert views.tick_label_width("May 2027") > views.tick_label_width("May") > 0


def test_tenant_colors_are_stable() -> None:
    a = views.tenant_colors(["b", "a", "c"])
    assert a == views.tenant_colors(["c", "a", "b"])
    assert len(set(a.values())) == 3


def test_paginate_clamps_the_page(demo: tuple[Services, DemoKeys]) -> None:
    services, _ = demo
    rows = views.node_rows(services.leasing.fleet(), [], 0)
    page = views.paginate(rows, 99, 50)
    assert page.page == page.pages == -(-len(rows) // 50)
    assert views.paginate(rows, -3, 50).page == 1
    failed = views.node_rows(services.leasing.fleet(), [], 0, state="failed", model="GB200")
    assert failed
    assert all(r.node.health is Health.FAILED and r.node.gpu_model == "GB200" for r in failed)


def test_event_summary_shows_what_changed() -> None:
    summary = views.event_summary(
        {"state": "held", "end": 0}, {"state": "confirmed", "end": 0, "contract": [[0, DAY, 64]]}
    )
    assert summary == "state: held → confirmed; contract: 64 GPUs 1970-01-01 → 1970-01-02"


def test_a_price_books_effective_time_and_a_node_list_read_as_text_not_python() -> None:
    published = views.event_summary(None, {"version": 2, "effective": DAY, "note": "x"})
    assert "effective: 1970-01-02" in published
    assert str(DAY) not in published
    degraded = views.event_summary(None, {"nodes": ["de-b0001-n020", "de-b0001-n021"]})
    assert degraded == "nodes: de-b0001-n020, de-b0001-n021"


def test_the_prices_page_marks_a_margin_below_cost_in_words_not_colour_alone(
    app_and_keys: tuple[TestClient, Services, DemoKeys],
) -> None:
    _, _, keys = app_and_keys
    page = _client(app_and_keys, keys.operator).get("/prices").text
    margins = page[page.index('id="margins"') :]
    margins = margins[: margins.index("</table>")]
    below = re.findall(r'<td class="num below-cost">(-[0-9.]+) <span class="tag">below cost</span></td>', margins)
    assert below  # the demo's wholesale and spot rates sit under the TCO
    cells = re.findall(r'<td class="num[^"]*">(-?[0-9.]+)', margins)
    assert sorted(c for c in cells if c.startswith("-")) == sorted(below)  # every negative one is marked


def test_the_deals_page_opens_on_a_deal_that_fits_the_roomiest_site(
    app_and_keys: tuple[TestClient, Services, DemoKeys],
) -> None:
    _, _, keys = app_and_keys
    response = _client(app_and_keys, keys.operator).get("/deals")
    assert response.status_code == 200, response.text[:500]
    assert 'id="deal-problems"' not in response.text
    assert "needs" not in re.sub(r"<[^>]+>", " ", response.text)  # no "needs 576 more" warning
    assert "<option selected>demo-east</option>" not in response.text  # all 576 GPUs there are committed
    gpus = re.search(r'name="gpus"[^>]*value="([A-Z0-9]+)=(\d+)"', response.text)
    assert gpus is not None
    assert int(gpus[2]) > 0


def test_safe_next_keeps_redirects_local() -> None:
    assert _safe_next("/timeline?months=3") == "/timeline?months=3"
    for bad in ("https://evil.example/", "//evil.example/", "/\\evil", "", None):
        assert _safe_next(bad) == "/"


# -- pages ----------------------------------------------------------------------------
PAGES = ("/", "/timeline", "/timeline?months=12", "/nodes", "/nodes?state=failed&site=demo-east", "/events")


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_key(app_and_keys: tuple[TestClient, Services, DemoKeys], path: str) -> None:
    response = _client(app_and_keys, None).get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_a_bad_key_is_refused_and_a_stale_cookie_dropped(app_and_keys: tuple[TestClient, Services, DemoKeys]) -> None:
    client = _client(app_and_keys, None)
    response = client.post("/login", data={"api_key": "nc_x_y"}, follow_redirects=False)
    assert response.status_code == 401
    assert "invalid or revoked" in response.text
    client.cookies.set(COOKIE, "nc_x_y")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert COOKIE in response.headers.get("set-cookie", "")


def test_the_cookie_is_httponly_and_strict(app_and_keys: tuple[TestClient, Services, DemoKeys]) -> None:
    _, _, keys = app_and_keys
    client = _client(app_and_keys, None)
    response = client.post("/login", data={"api_key": keys.operator, "next": "/events"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/events"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert client.get("/logout", follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("path", PAGES)
def test_operator_pages(app_and_keys: tuple[TestClient, Services, DemoKeys], path: str) -> None:
    _, _, keys = app_and_keys
    response = _client(app_and_keys, keys.operator).get(path)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_operator_sees_every_lease_and_node(app_and_keys: tuple[TestClient, Services, DemoKeys]) -> None:
    _, services, keys = app_and_keys
    client = _client(app_and_keys, keys.operator)
    for lease in services.leasing.leases():
        assert client.get(f"/leases/{lease.id}").status_code == 200
    node = services.leasing.fleet().nodes[0]
    assert client.get(f"/nodes/{node.id}").status_code == 200
    assert client.get("/leases/L-nope").status_code == 404
    assert client.get("/nodes/nope").status_code == 404
    timeline = client.get("/timeline").text
    for lease in services.leasing.leases():
        if lease.state not in views.HIDDEN_STATES:
            assert f'data-lease="{lease.id}"' in timeline


def test_the_overview_failed_card_shows_failed_gpus_only(app_and_keys: tuple[TestClient, Services, DemoKeys]) -> None:
    _, services, keys = app_and_keys
    nodes = services.leasing.fleet().nodes
    failed = sum(n.gpu_count for n in nodes if n.health is Health.FAILED)
    degraded = sum(n.gpu_count for n in nodes if n.health is Health.DEGRADED)
    html = _client(app_and_keys, keys.operator).get("/").text
    card = re.search(r'id="failed-card">.*?class="value">([\d,]+)<', html)
    assert card is not None
    assert card.group(1) == f"{failed:,}"
    card = re.search(r'id="degraded-card">.*?class="value">([\d,]+)<', html)
    assert card is not None
    assert card.group(1) == f"{degraded:,}"


def test_static_files_are_served(app_and_keys: tuple[TestClient, Services, DemoKeys]) -> None:
    client = _client(app_and_keys, None)
    chart = client.get("/static/vendor/chartjs-4.6.1/chart.umd.min.js")
    assert chart.status_code == 200
    assert "Chart.js v4.6.1" in chart.text[:200]
    assert client.get("/static/vendor/chartjs-4.6.1/LICENSE.md").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/dashboard.js").status_code == 200


@pytest.mark.parametrize("tenant", ["acme-ai", "globex-research", "initech", "frontier-lab"])
def test_tenants_see_only_their_leases(app_and_keys: tuple[TestClient, Services, DemoKeys], tenant: str) -> None:
    _, services, keys = app_and_keys
    client = _client(app_and_keys, keys.tenants[tenant])
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    timeline = client.get("/timeline").text
    events = client.get("/events").text
    overview = client.get("/").text
    assert 'id="sites"' not in overview
    for lease in services.leasing.leases():
        page = client.get(f"/leases/{lease.id}")
        if lease.tenant == tenant:
            assert page.status_code == 200
        else:
            assert page.status_code == 404
            assert lease.id not in timeline
            assert lease.id not in events
            assert lease.id not in overview
            assert lease.tenant not in page.text
    assert "pool internal-training" not in timeline
    # node pages: only nodes its leases ran on
    mine = {le.id for le in services.leasing.leases(tenant=tenant)}
    booked = {b.node for b in services.leasing.bookings(0, 2**62) if b.holder in mine}
    other = next(n for n in services.leasing.fleet().nodes if n.id not in booked)
    assert client.get(f"/nodes/{other.id}").status_code == 404
    if booked:
        assert client.get(f"/nodes/{sorted(booked)[0]}").status_code == 200
