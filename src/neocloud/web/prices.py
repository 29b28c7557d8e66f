"""The dashboard's price-book page: the rate cards in force and the version history;
the operator also sees the margin over TCO per site and model, where the TCO is known.
A tenant sees the rate cards (what it is quoted from) and nothing of cost or margin."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from neocloud.domain.errors import NotFound
from neocloud.economics.pricebook import price_rows
from neocloud.web.routes import _page, _services, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/prices", response_class=HTMLResponse)
def prices_page(request: Request) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    try:
        book = svc.pricing.book_at()
    except NotFound:
        return _page(request, "prices.html", who, book=None, rows=[], versions=[], margins=[])
    versions = svc.pricing.versions() if who.is_operator else []
    margins = []
    if who.is_operator:
        fleet = svc.leasing.fleet()
        pairs = sorted({(n.site, n.gpu_model) for n in fleet.nodes})
        margins = svc.pricing.margins(book, pairs)
    return _page(
        request, "prices.html", who, book=book, rows=price_rows(book.cards), versions=versions, margins=margins
    )
