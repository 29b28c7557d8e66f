"""The FastAPI application: ``/v1`` REST API, ``/metrics``, ``/healthz`` and the dashboard."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from neocloud import __version__
from neocloud.api import problems
from neocloud.api.body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimit
from neocloud.api.metrics import Metrics, MetricsMiddleware
from neocloud.api.read_cache import ReadCache
from neocloud.api.routers import (
    admin,
    amendments,
    availability,
    billing,
    custody,
    deals,
    docs,
    economics,
    events,
    fleet,
    health,
    leases,
    prices,
    queues,
    serving,
    studies,
    system,
)
from neocloud.api.schemas import ProblemOut
from neocloud.services.container import Services
from neocloud.web import routes as web

log = logging.getLogger(__name__)
TICK_INTERVAL_S = 30.0
SLOW_TICK_S = 20.0
STOP_WAIT_S = 10.0


def create_app(
    services: Services,
    *,
    metrics_token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    tick_s: float | None = TICK_INTERVAL_S,
) -> FastAPI:
    """An app serving ``services``; routers call the same services as the CLI.
    ``/metrics`` takes an operator key, and ``metrics_token`` too when it is given.
    Request bodies over ``max_body_bytes`` are refused with 413 (api/body_limit.py).
    Every ``tick_s`` the clock ticker moves the leases and runs a cycle of every job
    queue (``None``: no ticker, for a test that drives the clock and the cycles itself)."""
    app = FastAPI(
        title="neocloud",
        version=__version__,
        description="Control plane for GPU data centers run as a cloud: fleet, leases, availability, health.",
        docs_url=None,  # served by routers/docs.py from local files, not from a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    app.state.services = services
    app.state.tick_s = tick_s
    app.state.read_cache = ReadCache()
    app.state.metrics = Metrics(services, metrics_token)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)  # outermost: it counts the 413s too
    problems.install(app)
    routers = (
        system,
        docs,
        fleet,
        leases,
        availability,
        health,
        events,
        admin,
        economics,
        deals,
        prices,
        serving,
        billing,
        custody,
        queues,
        studies,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(amendments.router)
    web.mount(app)
    _share_the_problem_schema(app)
    return app


def _share_the_problem_schema(app: FastAPI) -> None:
    """Put ProblemOut in the OpenAPI components, where every error response refers to it
    (schemas.PROBLEMS). Inlined, it was 85% of the document (430 kB for 31 paths), and
    Swagger UI took over 15 s to draw that on a loaded 2-core machine."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            spec.setdefault("components", {}).setdefault("schemas", {})["ProblemOut"] = ProblemOut.model_json_schema()
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the clock ticker while the app serves, so held leases expire and queued work
    starts while nobody writes."""
    if app.state.tick_s is None:
        yield
        return
    ticker = Ticker(app.state.services, app.state.tick_s)
    ticker.start()
    try:
        yield
    finally:
        ticker.stop()


class Ticker:
    """``services.leasing.tick()`` and a cycle of every job queue
    (``services.queues.cycle_all()``) every ``interval_s`` on a daemon thread of its own.

    A thread, not a task on the event loop: a tick takes the service's lock and may
    wait on the database, and stopping must never hang the server's shutdown. A failed
    tick is logged and retried at the next interval; ``stop`` waits at most
    ``STOP_WAIT_S`` for a tick in progress.
    """

    def __init__(self, services: Services, interval_s: float) -> None:
        self.services = services
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="neocloud-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STOP_WAIT_S)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            started = time.monotonic()
            try:
                self.services.leasing.tick()
            except Exception:
                log.exception("clock tick failed; trying again next interval")
            try:
                self.services.queues.cycle_all()
            except Exception:
                log.exception("a job queue's cycle failed; trying again next interval")
            took = time.monotonic() - started
            if took > SLOW_TICK_S:
                log.warning("clock tick took %.1f s", took)
