"""The FastAPI application: ``/v1`` REST API, ``/metrics``, ``/healthz`` and the dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from neocloud import __version__
from neocloud.api import problems
from neocloud.api.metrics import Metrics, MetricsMiddleware
from neocloud.api.routers import admin, availability, events, fleet, health, leases, system
from neocloud.services.container import Services
from neocloud.web import routes as web

log = logging.getLogger(__name__)
TICK_INTERVAL_S = 30.0
TICK_TIMEOUT_S = 20.0


def create_app(services: Services) -> FastAPI:
    """An app serving ``services``; routers call the same services as the CLI."""
    app = FastAPI(
        title="neocloud",
        version=__version__,
        description="Control plane for GPU data centers run as a cloud: fleet, leases, availability, health.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    app.state.services = services
    app.state.metrics = Metrics(services)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    problems.install(app)
    for module in (system, fleet, leases, availability, health, events, admin):
        app.include_router(module.router)
    web.mount(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the clock ticker while the app serves, so held leases expire while nobody writes."""
    task = asyncio.create_task(tick_forever(app.state.services, TICK_INTERVAL_S))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def tick_forever(services: Services, interval_s: float) -> None:
    """``services.leasing.tick()`` every ``interval_s``; each tick bounded, failures logged."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.wait_for(asyncio.to_thread(services.leasing.tick), TICK_TIMEOUT_S)
        except TimeoutError:
            log.warning("clock tick took over %.0f s; trying again next interval", TICK_TIMEOUT_S)
        except Exception:
            log.exception("clock tick failed; trying again next interval")
