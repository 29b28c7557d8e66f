"""Prometheus metrics, a registry per app: fleet and lease gauges computed at scrape
(per live lease too: GPUs contracted and delivered now, the period's availability so far),
request counts and latencies by route template and status (ASGI middleware).

Who may scrape: ``/metrics`` tells the fleet's size per site and the leases per state,
so it is not public. By default it needs an operator API key (``Authorization: Bearer
nc_...``); with a scrape token configured (``neocloud serve --metrics-token``, or
``NEOCLOUD_METRICS_TOKEN``) ``Authorization: Bearer <token>`` also reads it, and only
it: the token opens no other route. A tenant key is a 403, no or a wrong credential a 401.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neocloud.api.problems import Forbidden
from neocloud.domain.access import AccessDenied
from neocloud.domain.leases import LeaseState
from neocloud.services.container import Services
from neocloud.services.sla_watch import live_sla

log = logging.getLogger(__name__)
SCRAPE_ENV_VAR = "NEOCLOUD_METRICS_TOKEN"
TOKEN_MIN, TOKEN_MAX = 16, 256
_TOKEN = re.compile(rf"[!-~]{{{TOKEN_MIN},{TOKEN_MAX}}}")  # visible ASCII: it travels in a header


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be a scrape token (``None`` when it can)."""
    if _TOKEN.fullmatch(token):
        return None
    return f"must be {TOKEN_MIN} to {TOKEN_MAX} visible ASCII characters, no spaces (got {len(token)} characters)"


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


class LeaseSlaCollector(Collector):
    """Per live lease (labels ``lease``, ``tenant``): GPUs contracted and delivered-healthy
    now, and the billing period's availability so far against the SLA target, so that
    alerting sees a breach building before the invoice does (services/sla_watch.py)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        labels = ["lease", "tenant"]
        contracted = GaugeMetricFamily(
            "neocloud_lease_contracted_gpus", "GPUs the lease's contract calls for now", labels=labels
        )
        delivered = GaugeMetricFamily(
            "neocloud_lease_delivered_gpus", "GPUs of the lease's nodes that are healthy now", labels=labels
        )
        availability = GaugeMetricFamily(
            "neocloud_lease_availability_ratio",
            "Delivered-healthy over contracted GPU-seconds in the billing period so far (maintenance windows excluded)",
            labels=labels,
        )
        target = GaugeMetricFamily(
            "neocloud_lease_sla_target_ratio", "The lease's SLA availability target", labels=labels
        )
        shortfall = GaugeMetricFamily(
            "neocloud_lease_shortfall_gpu_seconds",
            "Contracted GPU-seconds not delivered in the billing period so far",
            labels=labels,
        )
        try:
            rows = live_sla(self.services.billing)
        except Exception:  # a scrape must not fail because the store is away
            log.exception("metrics: could not meter the live leases")
            return
        for row in rows:
            key = [row.lease_id, row.tenant]
            contracted.add_metric(key, row.contracted_gpus)
            delivered.add_metric(key, row.delivered_gpus)
            target.add_metric(key, float(row.target_pct / 100))
            shortfall.add_metric(key, row.so_far.shortfall_gpu_s)
            if row.availability is not None:
                availability.add_metric(key, row.availability)
        yield from (contracted, delivered, availability, target, shortfall)


class Metrics:
    """The app's registry, its request instruments and who may read them."""

    def __init__(self, services: Services, token: str | None = None) -> None:
        if token is not None and (problem := token_problem(token)) is not None:
            raise ValueError(f"metrics token: {problem}")
        self.services = services
        self.token = token
        self.registry = CollectorRegistry()
        self.registry.register(LedgerCollector(services))
        self.registry.register(LeaseSlaCollector(services))
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

    def authorize(self, request: Request) -> None:
        """Let the scrape token or an operator key through; :class:`AccessDenied` (401)
        for no or a wrong credential, :class:`Forbidden` (403) for a tenant key."""
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        credential = credential.strip() if scheme.lower() == "bearer" else ""
        wanted = "the scrape token or an operator API key" if self.token else "an operator API key"
        if not credential:
            raise AccessDenied(f"/metrics needs {wanted}: send 'Authorization: Bearer ...'")
        if self.token is not None and hmac.compare_digest(credential.encode(), self.token.encode()):
            return
        if not self.services.keys.authenticate(credential).is_operator:
            raise Forbidden(f"/metrics needs {wanted}, not a tenant key")


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
