"""Prometheus metrics, a registry per app: fleet and lease gauges computed at scrape,
request counts and latencies by route template and status (ASGI middleware)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neocloud.domain.leases import LeaseState
from neocloud.services.container import Services

log = logging.getLogger(__name__)


class LedgerCollector(Collector):
    """GPUs by site and health state, and leases by state, read from the services at scrape."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        gpus = GaugeMetricFamily("neocloud_gpus", "GPUs by site and node health state", labels=["site", "state"])
        leases = GaugeMetricFamily("neocloud_leases", "Leases by state", labels=["state"])
        try:
            by_health: Counter[tuple[str, str]] = Counter()
            for node in self.services.leasing.fleet().nodes:
                by_health[(node.site, node.health.value)] += node.gpu_count
            states = Counter(lease.state.value for lease in self.services.leasing.leases())
        except Exception:  # a scrape must not fail because the store is away
            log.exception("metrics: could not read the ledger")
            return
        for (site, state), count in sorted(by_health.items()):
            gpus.add_metric([site, state], count)
        for state in LeaseState:
            leases.add_metric([state.value], states.get(state.value, 0))
        yield gpus
        yield leases


class Metrics:
    """The app's registry and its request instruments."""

    def __init__(self, services: Services) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(LedgerCollector(services))
        self.requests = PromCounter(
            "neocloud_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "neocloud_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (``/v1/leases/{lease_id}``)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        began = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - began)
