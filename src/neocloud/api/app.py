"""The FastAPI application: ``/v1`` REST API, ``/metrics``, ``/healthz`` and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from neocloud import __version__
from neocloud.api import problems
from neocloud.api.routers import system
from neocloud.services.container import Services


def create_app(services: Services) -> FastAPI:
    """An app serving ``services``; routers call the same services as the CLI."""
    app = FastAPI(
        title="neocloud",
        version=__version__,
        description="Control plane for GPU data centers run as a cloud: fleet, leases, availability, health.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.services = services
    problems.install(app)
    app.include_router(system.router)
    return app
