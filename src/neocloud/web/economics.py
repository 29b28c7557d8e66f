"""The dashboard's economics page: the owner's TCO per GPU model (operator only).

A tenant signed in gets 403 with the same "operator only" page the refusal shows
everywhere on the dashboard; costs are never shown to a tenant.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from neocloud.economics.cost import LINE_LABELS, FleetTco
from neocloud.web.palette import LINE_COLOURS
from neocloud.web.routes import _page, _services, signed_in

#: One colour per TCO line, in LINE_LABELS order (the CLI's HTML chart uses the same).

router = APIRouter(include_in_schema=False)


@router.get("/economics", response_class=HTMLResponse)
def economics_page(request: Request) -> HTMLResponse:
    who = signed_in(request)
    if not who.is_operator:
        return _page(request, "forbidden.html", who, status=403, what="The cost model")
    cost = _services(request).cost
    result = cost.fleet_tco()
    per_model = {m: result.only(model=m) for m in result.models() if any(r.model == m for r in result.rows)}
    return _page(
        request,
        "economics.html",
        who,
        result=result,
        per_model=per_model,
        tco_spec=tco_chart(result),
        version=cost.assumptions().version,
        labels=LINE_LABELS,
    )


def tco_chart(result: FleetTco) -> dict[str, object]:
    """A stacked bar per GPU model (GPU-weighted over its sites): one dataset per TCO line,
    in USD per GPU-hour, for ``static/dashboard.js``."""
    models = list(dict.fromkeys(r.model for r in result.rows))
    per_model = [result.only(model=m) for m in models]
    return {
        "type": "bar",
        "labels": models,
        "datasets": [
            {
                "label": label,
                "data": [float(t.lines[i].per_gpu_hour.amount) for t in per_model],
                "backgroundColor": LINE_COLOURS[i],
            }
            for i, label in enumerate(LINE_LABELS.values())
        ],
        "stacked": True,
    }
