"""The web dashboard: server-rendered pages over the same services as the API and CLI.

Sign-in: a person pastes an API key at ``/login``; it is kept in an HttpOnly,
SameSite=Strict cookie and resolved on every request exactly like the API's bearer
keys (``services.keys.authenticate``). Without a valid key a page redirects to
``/login``. What a page shows is what the services let the principal see
(``services.visibility``, the same rule as the API's): a tenant sees its own leases,
the nodes they ran on and its events; another tenant's lease is a 404, as in the API.

Charts are drawn by Chart.js, shipped in ``static/vendor`` (no CDN, no internet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from neocloud.domain.access import AccessDenied, Principal
from neocloud.domain.changes import EventQuery, StoredEvent
from neocloud.domain.clock import to_s
from neocloud.domain.health import Health
from neocloud.domain.ledger import Booking
from neocloud.leasing.engine import NotFound, RequestError
from neocloud.services.catalog import Page
from neocloud.services.container import Services
from neocloud.services.visibility import Viewer
from neocloud.web import views

HERE = Path(__file__).resolve().parent
CHART_JS = "/static/vendor/chartjs-4.6.1/chart.umd.min.js"
COOKIE = "neocloud_key"
NODES_PER_PAGE = 50
BOOKINGS_PER_PAGE = 50
EVENTS_PER_PAGE = 50
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["chart_js"] = CHART_JS
templates.env.globals["short_time"] = views.short_time
templates.env.globals["category_colors"] = views.CATEGORY_COLORS
templates.env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else v

router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):
    """No valid key in the cookie: the page redirects to ``/login``."""

    def __init__(self, next_path: str, had_cookie: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.had_cookie = had_cookie


def mount(app: FastAPI) -> None:
    """Add the dashboard's pages and ``/static`` to ``app`` (built by ``create_app``)."""
    from neocloud.web import (
        billing,
        deals,
        economics,
        prices,
        queues,
        serving,
        studies,
    )  # their pages reuse this module's helpers

    app.include_router(router)
    app.include_router(prices.router)
    app.include_router(economics.router)
    app.include_router(deals.router)
    app.include_router(serving.router)
    app.include_router(billing.router)
    app.include_router(queues.router)
    app.include_router(studies.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    async def _sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        response = RedirectResponse(f"/login?{urlencode({'next': exc.next_path})}", status_code=303)
        if exc.had_cookie:
            response.delete_cookie(COOKIE, path="/")
        return response

    app.add_exception_handler(SignInRequired, _sign_in)


# -- helpers ---------------------------------------------------------------------------
def _services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def signed_in(request: Request) -> Principal:
    """The principal of the key in the cookie; :class:`SignInRequired` without a valid one."""
    token = request.cookies.get(COOKIE)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise SignInRequired(path, had_cookie=False)
    try:
        return _services(request).keys.authenticate(token)
    except AccessDenied as e:
        raise SignInRequired(path, had_cookie=True) from e


def _page(request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, name, {"who": who, "path": request.url.path, **context}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _not_found(request: Request, who: Principal, what: str) -> HTMLResponse:
    return _page(request, "not_found.html", who, status=404, what=what)


def _safe_next(target: str | None) -> str:
    """Only a local path: never another site (``//host``, ``https://``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _now(services: Services) -> int:
    return to_s(services.clock.now())


def _opt(value: str | None) -> str | None:
    return value.strip() or None if value else None


# -- sign-in ---------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("api_key") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/"])[0])
    try:
        _services(request).keys.authenticate(token)
    except AccessDenied as e:
        return _page(request, "login.html", None, status=401, next=target, error=str(e))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        max_age=12 * 3600,
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- pages -----------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    now = _now(svc)
    horizon = now + 180 * views.DAY
    avail = svc.leasing.availability(now, horizon)
    leases = [
        le for le in svc.leasing.leases(viewer=Viewer.of(who)) if le.state not in views.HIDDEN_STATES and le.end_s > now
    ]
    context: dict[str, Any] = {
        "now": now,
        "avail": avail,
        "avail_chart": views.availability_chart(avail, horizon),
        "leases": leases,
        "colors": views.tenant_colors(svc.leasing.tenants()),
    }
    if who.is_operator:
        rows, total = views.site_rows(svc.leasing.fleet(), svc.leasing.bookings(now, now + 1), now)
        context.update(rows=rows, total=total, sites_chart=views.overview_chart(rows), categories=views.CATEGORIES)
    return _page(request, "overview.html", who, **context)


@router.get("/timeline", response_class=HTMLResponse)
def timeline(request: Request, months: int = 6) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    now = _now(svc)
    months = min(max(months, 1), 24)
    window = views.timeline_window(now, months)
    viewer = Viewer.of(who)
    unhealthy = [f"node.{h.value}" for h in views.UNHEALTHY]
    failures = views.failure_times(_all_events(svc, viewer, unhealthy, window[0]))
    chart = views.build_timeline(
        svc.leasing.fleet(),
        svc.leasing.leases(viewer=viewer),
        svc.visibility.bookings(viewer, *window),
        failures=failures,
        colors=views.tenant_colors(svc.leasing.tenants()),
        window=window,
        now_s=now,
        operator=who.is_operator,
    )
    return _page(request, "timeline.html", who, tl=chart, months=months, now=now)


def _all_events(svc: Services, viewer: Viewer, kinds: list[str], since_s: int) -> list[StoredEvent]:
    out: list[StoredEvent] = []
    for kind in kinds:
        after = 0
        while True:
            batch = svc.visibility.events(viewer, EventQuery(kind=kind, after_seq=after, limit=500))
            out.extend(e for e in batch if (e.event.after or {}).get("at", e.event.at_s) >= since_s)
            if len(batch) < 500:
                break
            after = batch[-1].seq
    return out


@router.get("/leases/{lease_id}", response_class=HTMLResponse)
def lease_page(request: Request, lease_id: str, cursor: str | None = None) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    viewer = Viewer.of(who)
    try:
        view = svc.leasing.show(lease_id, viewer=viewer)
    except NotFound:
        return _not_found(request, who, f"lease {lease_id}")
    now = _now(svc)
    lease = view.lease
    bookings = _lease_bookings(svc, viewer, lease.id, cursor)
    nodes = {n.id: n for n in svc.leasing.fleet().nodes}
    events = svc.visibility.events(viewer, EventQuery(lease_id=lease.id, limit=200))
    from neocloud.web.billing import amendment_rows  # it imports this module

    return _page(
        request,
        "lease.html",
        who,
        lease=lease,
        site=", ".join(sorted({s.site for s in view.blocks})) or lease.request.shape.site or "unplaced",
        blocks=sorted(view.blocks, key=lambda s: s.unhealthy == 0),  # blocks with trouble first
        blocks_at=view.blocks_at_s,
        bookings_total=len(view.bookings),
        bookings=bookings.items,
        first_page=cursor is None,
        next_cursor=bookings.next_cursor,
        per_page=BOOKINGS_PER_PAGE,
        nodes=nodes,
        shortfall=views.shortfall(lease, view.capacity, now),
        events=events,
        summary=views.event_summary,
        color=views.tenant_colors(svc.leasing.tenants()).get(lease.tenant, views.PALETTE[0]),
        now=now,
        sla=svc.billing.lease_sla(lease.id, viewer),
        amendments=amendment_rows(lease.amendments),
    )


def _lease_bookings(svc: Services, viewer: Viewer, lease_id: str, cursor: str | None) -> Page[Booking]:
    """A page of the lease's bookings, oldest first; a cursor that is not one starts over."""
    try:
        return svc.catalog.lease_bookings(lease_id, viewer=viewer, limit=BOOKINGS_PER_PAGE, cursor=cursor)
    except RequestError:
        return svc.catalog.lease_bookings(lease_id, viewer=viewer, limit=BOOKINGS_PER_PAGE, cursor=None)


@router.get("/nodes", response_class=HTMLResponse)
def nodes_page(
    request: Request,
    *,
    site: str | None = None,
    state: str | None = None,
    model: str | None = None,
    page: int = 1,
) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    now = _now(svc)
    fleet = svc.leasing.fleet()
    site, state, model = _opt(site), _opt(state), _opt(model)
    seen = svc.visibility.nodes_at(Viewer.of(who), now)
    rows = views.node_rows(
        fleet, seen.held.values(), now, site=site, state=state, model=model, only=seen.nodes, taken=seen.taken
    )
    paged = views.paginate(rows, page, NODES_PER_PAGE)
    counts = {h.value: sum(1 for r in rows if r.node.health is h) for h in Health}
    filters = {k: v for k, v in {"site": site, "state": state, "model": model}.items() if v}
    return _page(
        request,
        "nodes.html",
        who,
        paged=paged,
        counts=counts,
        sites=[s.name for s in fleet.sites],
        states=[h.value for h in Health],
        models=sorted({n.gpu_model for n in fleet.nodes}),
        filters=filters,
        query=lambda **kw: urlencode({**filters, **kw}),
    )


@router.get("/nodes/{node_id}", response_class=HTMLResponse)
def node_page(request: Request, node_id: str) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    try:
        view = svc.visibility.node(Viewer.of(who), node_id)
    except NotFound:
        return _not_found(request, who, f"node {node_id}")
    return _page(
        request,
        "node.html",
        who,
        node=view.node,
        bookings=view.bookings,
        events=view.events,
        summary=views.event_summary,
        now=_now(svc),
    )


@router.get("/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    *,
    kind: str | None = None,
    lease: str | None = None,
    node: str | None = None,
    tenant: str | None = None,
    after: int = 0,
) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    kind, lease, node, tenant = _opt(kind), _opt(lease), _opt(node), _opt(tenant)
    query = EventQuery(
        lease_id=lease, node=node, tenant=tenant, kind=kind, after_seq=max(after, 0), limit=EVENTS_PER_PAGE + 1
    )
    try:
        batch = svc.visibility.events(Viewer.of(who), query)
    except NotFound:
        return _not_found(request, who, f"tenant {tenant}")
    more = len(batch) > EVENTS_PER_PAGE
    batch = batch[:EVENTS_PER_PAGE]
    asked = {"kind": kind, "lease": lease, "node": node, "tenant": tenant if who.is_operator else None}
    filters = {k: v for k, v in asked.items() if v}
    return _page(
        request,
        "events.html",
        who,
        events=batch,
        more=more,
        next_after=batch[-1].seq if batch else after,
        after=after,
        filters=filters,
        tenants=sorted(svc.leasing.tenants()) if who.is_operator else [],
        summary=views.event_summary,
        query=lambda **kw: urlencode({**filters, **kw}),
    )
