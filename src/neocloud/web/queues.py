"""The dashboard's queues pages: internal pools' live job queues (operator only).

``/queues`` lists every pool's queue with its capacity and load; ``/queues/{pool}``
shows the pool's running and queued workloads (where each runs, when its estimate
runs out), the finished, rejected and cancelled ones, and the journal's latest decisions. A
tenant signed in gets the "operator only" page: internal work is the operator's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from neocloud.domain.errors import NotFound
from neocloud.web.routes import _page, _services, signed_in
from neocloud.web.views import minute_time

router = APIRouter(include_in_schema=False)


@router.get("/queues", response_class=HTMLResponse)
def queues_page(request: Request) -> HTMLResponse:
    who = signed_in(request)
    if not who.is_operator:
        return _page(request, "forbidden.html", who, status=403, what="Internal work")
    svc = _services(request).queues
    views = [svc.queue(p.name) for p in svc.pools()]
    return _page(request, "queues.html", who, views=views, when=minute_time)


@router.get("/queues/{pool}", response_class=HTMLResponse)
def queue_page(request: Request, pool: str) -> HTMLResponse:
    who = signed_in(request)
    if not who.is_operator:
        return _page(request, "forbidden.html", who, status=403, what="Internal work")
    try:
        view = _services(request).queues.queue(pool)
    except NotFound:
        return _page(request, "not_found.html", who, status=404, what=f"queue {pool}")
    active = [w for w in view.workloads if w.state in ("running", "queued")]
    done = [w for w in view.workloads if w.state not in ("running", "queued")][-50:]
    return _page(request, "queue.html", who, view=view, active=active, done=done, when=minute_time)
