"""The composition root: the one place that wires adapters to services."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from neocloud.adapters.db.store import SqlStore, open_store
from neocloud.adapters.fleetfile import io as fleetfile
from neocloud.adapters.importers import IMPORTERS
from neocloud.domain.clock import Clock, SystemClock
from neocloud.domain.fleet import Fleet
from neocloud.domain.spec import FleetSpec
from neocloud.services.access import KeyService
from neocloud.services.container import Services
from neocloud.services.fleet import FleetFiles, Importer
from neocloud.services.leasing import LeasingService
from neocloud.services.settings import settings_from


class YamlFleetFiles:
    """Fleet files as YAML specs with CSV node tables."""

    def load_fleet(self, path: Path) -> Fleet:
        return fleetfile.load_fleet(path)

    def save_spec(self, spec: FleetSpec, path: Path) -> list[Path]:
        return fleetfile.save_spec(spec, path)


def fleet_files() -> FleetFiles:
    return YamlFleetFiles()


def importers() -> dict[str, Importer]:
    return dict(IMPORTERS)


MAX_BODY_BYTES_ENV = "NEOCLOUD_MAX_BODY_BYTES"
SERVER_READ_STALENESS_S = 0.05
SERVER_KEY_CACHE_S = 5.0


def ledger_store(url: str) -> SqlStore:
    """The store behind a database URL (``sqlite:///file.db`` or ``postgresql://...``):
    the ledger, API keys and idempotent results."""
    return open_store(url)


def leasing_service(url: str, clock: Clock | None = None) -> LeasingService:
    return _leasing(ledger_store(url), clock or SystemClock())


def _leasing(store: SqlStore, clock: Clock, read_staleness_s: float = 0.0) -> LeasingService:
    """The leasing service with the operator's settings from the environment (services/settings.py)."""
    settings = settings_from(os.environ)
    return LeasingService(
        store,
        clock,
        read_staleness_s=read_staleness_s,
        terms=settings.terms,
        health_backdate_s=settings.health_backdate_s,
    )


def services(url: str, clock: Clock | None = None, *, server: bool = False) -> Services:
    """The services behind ``neocloud serve`` (and the API tests), on one store.

    A ``server`` reads other processes' commits at most 50 ms late and trusts a
    looked-up API key for 5 s (its own writes and revocations apply at once)."""
    store = ledger_store(url)
    used_clock = clock or SystemClock()
    leasing = _leasing(store, used_clock, SERVER_READ_STALENESS_S if server else 0.0)
    return Services(
        leasing=leasing,
        keys=KeyService(store, used_clock, record=leasing.record, cache_s=SERVER_KEY_CACHE_S if server else 0.0),
        idempotency=store,
        clock=used_clock,
        database=url,
    )


def worker_app() -> FastAPI:
    """The app of one uvicorn worker process (``neocloud serve --workers N``), on the
    database named by ``NEOCLOUD_DB``. Each worker has its own cached view of the
    ledger, caught up with the others' commits by version: they share the database,
    not memory."""
    from neocloud.api.app import create_app

    url = os.environ.get("NEOCLOUD_DB")
    if not url:
        raise RuntimeError("NEOCLOUD_DB is not set: neocloud serve sets it for its workers")
    from neocloud.api.body_limit import DEFAULT_MAX_BODY_BYTES

    limit = os.environ.get(MAX_BODY_BYTES_ENV, str(DEFAULT_MAX_BODY_BYTES))
    if not (limit.isascii() and limit.isdigit()):
        raise RuntimeError(f"{MAX_BODY_BYTES_ENV}={limit!r} is not a number of bytes")
    return create_app(services(url, server=True), max_body_bytes=int(limit))
