"""The dashboard's studies pages: stored keep-vs-lease studies and sweeps (operator only).

``/studies`` lists them with a status each and the progress of running ones;
``/studies/{id}`` shows a keep-vs-lease study's frontier (the internal mean delay
against the lease's NPV, a point per fraction, the bound drawn), its recommendation
and the table per fraction, or a sweep's mean-over-seeds chart and table. The charts
and tables are ``web/study_charts.py``'s, the CLI's ``--report`` pages' too. A tenant
signed in gets the "operator only" page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from neocloud.domain.errors import NotFound
from neocloud.domain.studies import StudyKind, StudyStatus
from neocloud.services.study_documents import sold_text, sweep_rows
from neocloud.sim.sweep import mean_over_seeds
from neocloud.web import study_charts
from neocloud.web.routes import _page, _services, signed_in
from neocloud.web.views import minute_time

router = APIRouter(include_in_schema=False)
WHAT = "Studies"


@router.get("/studies", response_class=HTMLResponse)
def studies_page(request: Request) -> HTMLResponse:
    who = signed_in(request)
    if not who.is_operator:
        return _page(request, "forbidden.html", who, status=403, what=WHAT)
    studies = _services(request).studies.studies()
    return _page(request, "studies.html", who, studies=studies, when=minute_time)


@router.get("/studies/{study_id}", response_class=HTMLResponse)
def study_page(request: Request, study_id: str) -> HTMLResponse:
    who = signed_in(request)
    if not who.is_operator:
        return _page(request, "forbidden.html", who, status=403, what=WHAT)
    try:
        study = _services(request).studies.study(study_id)
    except NotFound:
        return _page(request, "not_found.html", who, status=404, what=f"study {study_id}")
    chart = table = Markup("")
    doc = study.result if study.status is StudyStatus.DONE else None
    if doc is not None and study.kind is StudyKind.KEEP_VS_LEASE:
        # the fragments escape every text they hold (web/study_charts.py)
        chart = Markup(study_charts.frontier_svg(doc["options"], doc["max_delay_hours"], doc["currency"]))  # noqa: S704
        table = Markup(study_charts.keep_table(doc["options"], doc["currency"]))  # noqa: S704
    elif doc is not None:
        settings = mean_over_seeds(sweep_rows(doc))
        chart = Markup(study_charts.sweep_svg(settings))  # noqa: S704
        table = Markup(study_charts.settings_table(settings))  # noqa: S704
    sold = sold_text(doc) if doc is not None and study.kind is StudyKind.KEEP_VS_LEASE else ""
    return _page(
        request, "study.html", who, study=study, doc=doc, chart=chart, table=table, sold=sold, when=minute_time
    )
