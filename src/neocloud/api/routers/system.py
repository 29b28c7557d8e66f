"""Liveness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from neocloud.api.metrics import Metrics

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process serves requests."""
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition of this app's registry, for the scrape token or an operator key."""
    scrape: Metrics = request.app.state.metrics
    scrape.authorize(request)
    return Response(generate_latest(scrape.registry), media_type=CONTENT_TYPE_LATEST)
