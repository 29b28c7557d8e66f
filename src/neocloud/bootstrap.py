"""The composition root: the one place that wires adapters to services."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from neocloud.adapters import result_table, serving_files
from neocloud.adapters.assumptions import load_assumptions
from neocloud.adapters.fleetfile import io as fleetfile
from neocloud.adapters.importers import IMPORTERS
from neocloud.adapters.importers.alibaba import read_openb_nodes
from neocloud.adapters.lease_requests import read_lease_requests
from neocloud.adapters.memory import MemoryStore
from neocloud.adapters.pricefile import cards_from_document, load_rate_cards
from neocloud.adapters.result_table import Value as ResultValue
from neocloud.adapters.serving_plan_files import ServingFiles
from neocloud.adapters.traces import FORMATS as TRACE_FORMATS
from neocloud.adapters.traces import read_jobs
from neocloud.domain.clock import Clock, SystemClock
from neocloud.domain.demand import DemandRequest
from neocloud.domain.fleet import Fleet
from neocloud.domain.leases import Terms
from neocloud.domain.spec import FleetSpec
from neocloud.domain.workload import NodeCapacity, TraceJob
from neocloud.economics.assumptions import Assumptions
from neocloud.economics.pricebook import RateCards
from neocloud.economics.serving.catalog import ServingInputs
from neocloud.services.access import KeyService
from neocloud.services.billing import BillingService
from neocloud.services.container import Services
from neocloud.services.deals import CostSource, tco_cost_source
from neocloud.services.economics import CostService
from neocloud.services.fleet import FleetFiles, Importer
from neocloud.services.leasing import LeasingService, new_lease_id
from neocloud.services.pricing import PricingService, TcoFn, no_cost
from neocloud.services.queue import QueueService
from neocloud.services.serving import ServingModels, ServingService
from neocloud.services.settings import settings_from
from neocloud.services.studies import StudyService

if TYPE_CHECKING:  # imported where used: a CLI command that opens no database or server pays for neither
    from fastapi import FastAPI

    from neocloud.adapters.db.store import SqlStore


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


def trace_formats() -> dict[str, str]:
    """The workload trace formats ``FORMAT:PATH`` accepts, each with what it is."""
    return {name: f.about for name, f in TRACE_FORMATS.items()}


def trace_jobs(fmt: str, path: Path) -> Iterator[TraceJob]:
    """The jobs of a workload trace, streamed in file order (``neocloud.adapters.traces.read_jobs``);
    a bad format, file or row raises ``TraceError``."""
    return read_jobs(fmt, path)


def trace_in_arrival_order(fmt: str) -> bool:
    """Whether files of trace format ``fmt`` list jobs in arrival order (else sort them)."""
    return TRACE_FORMATS[fmt].in_arrival_order


def lease_requests(path: Path) -> Iterator[DemandRequest]:
    """The lease requests of a demand CSV, streamed in file order (``adapters/lease_requests.py``);
    a bad file or row raises ``TraceError`` naming the row and the column."""
    return read_lease_requests(path)


def pack_nodes(path: Path) -> tuple[NodeCapacity, ...]:
    """The nodes of an openb node list with CPU and memory, for the packing experiment."""
    return read_openb_nodes(path)


MAX_BODY_BYTES_ENV = "NEOCLOUD_MAX_BODY_BYTES"
SERVER_READ_STALENESS_S = 0.05
SERVER_KEY_CACHE_S = 5.0


#: The operator's assumptions override file for the cost model (any subset of keys).
ASSUMPTIONS_ENV = "NEOCLOUD_ASSUMPTIONS"


def assumptions(override: Path | None = None) -> Assumptions:
    """The cost model's assumptions: the shipped defaults with ``override`` (or the file
    named by ``$NEOCLOUD_ASSUMPTIONS``) laid over them."""
    named = os.environ.get(ASSUMPTIONS_ENV)
    return load_assumptions(override or (Path(named) if named else None))


def cost_service(fleet: Callable[[], Fleet], override: Path | None = None) -> CostService:
    """The cost model over ``fleet`` (the served one, or one a command loaded)."""
    return CostService(fleet, lambda: assumptions(override))


def ledger_store(url: str) -> SqlStore:
    """The store behind a database URL (``sqlite:///file.db`` or ``postgresql://...``):
    the ledger, API keys and the results kept for ``Idempotency-Key``."""
    from neocloud.adapters.db.store import open_store

    return open_store(url)


def leasing_service(url: str, clock: Clock | None = None) -> LeasingService:
    leasing = _leasing(ledger_store(url), clock or SystemClock())
    _margins_from(cost_service(leasing.fleet), leasing)
    return leasing


def queue_service(url: str, clock: Clock | None = None) -> QueueService:
    """Internal pools' live job queues on the ledger at ``url`` (the CLI's ``queue``)."""
    store = ledger_store(url)
    clock = clock or SystemClock()
    return QueueService(store, _leasing(store, clock), clock)


def study_service(url: str, clock: Clock | None = None) -> StudyService:
    """Stored studies in the database at ``url`` (the CLI's ``--save``); the schema is
    brought up to date first, so a database made before studies existed takes them."""
    store = ledger_store(url)
    store.create_schema()
    return StudyService(store, clock or SystemClock())


def _margins_from(cost: CostService, leasing: LeasingService) -> None:
    """The cost model's TCO per GPU-hour behind the price book's margins."""
    if leasing.pricing is not None:
        leasing.pricing.tco = cost.tco_per_gpu_hour


def pricing_service(store: SqlStore | MemoryStore, clock: Clock, tco: TcoFn | None = None) -> PricingService:
    """The price book on ``store``; rate-card documents parsed by ``adapters/pricefile.py``.
    ``tco``: the cost model's TCO per GPU-hour, ``(site, model) -> Money | None`` (none
    wired yet: every margin is unknown until the cost model lands)."""
    return PricingService(store, clock, parse=cards_from_document, tco=tco or no_cost)


def billing_service(url: str, clock: Clock | None = None) -> BillingService:
    """Invoices and credit notes of the database at ``url`` (the CLI's ``neocloud billing`` and ``invoice``)."""
    clock = clock or SystemClock()
    store = ledger_store(url)
    return BillingService(store, _leasing(store, clock), clock)


def price_book(url: str, clock: Clock | None = None) -> PricingService:
    """The price book of the database at ``url`` (the CLI's ``neocloud price``)."""
    return pricing_service(ledger_store(url), clock or SystemClock())


def rate_card_file(path: Path) -> tuple[RateCards, str]:
    """A rate-card file's cards and note (YAML, TOML or JSON); :class:`SpecError` naming each field."""
    return load_rate_cards(path)


def _leasing(
    store: SqlStore | MemoryStore,
    clock: Clock,
    read_staleness_s: float = 0.0,
    *,
    new_id: Callable[[], str] | None = None,
    terms: Terms | None = None,
    tco: TcoFn | None = None,
) -> LeasingService:
    """The leasing service with the operator's settings from the environment (services/settings.py),
    pricing from the store's price book."""
    settings = settings_from(os.environ)
    return LeasingService(
        store,
        clock,
        new_id=new_id or new_lease_id,
        read_staleness_s=read_staleness_s,
        terms=terms or settings.terms,
        health_backdate_s=settings.health_backdate_s,
        pricing=pricing_service(store, clock, tco),
    )


def services(url: str, clock: Clock | None = None, *, server: bool = False) -> Services:
    """The services behind ``neocloud serve`` (and the API tests), on one store.

    A ``server`` reads other processes' commits at most 50 ms late and trusts a
    looked-up API key for 5 s (its own writes and revocations apply at once)."""
    return _services(ledger_store(url), clock or SystemClock(), database=url, server=server)


def in_memory(
    clock: Clock | None = None,
    *,
    new_id: Callable[[], str] | None = None,
    terms: Terms | None = None,
    serving_models: ServingModels | None = None,
    tco: TcoFn | None = None,
) -> Services:
    """The whole system on the in-memory store: tests, benchmarks and the simulator's
    what-ifs get the same wiring as the server, without a database. ``new_id`` numbers
    leases (tests that want stable ids); ``terms`` replaces the operator's list price and SLA;
    ``serving_models`` the serving plan's models, systems and latency model; ``tco`` is the
    cost function behind the operator's margins."""
    return _services(
        MemoryStore(),
        clock or SystemClock(),
        database="memory",
        server=False,
        new_id=new_id,
        terms=terms,
        models=serving_models,
        tco=tco,
    )


SERVING_DATA_ENV = "NEOCLOUD_SERVING_DATA"


def serving_models(data_dir: Path | None = None, *, allow_paths: bool = False) -> ServingModels:
    """The serving plan's files: ``data_dir``, else ``$NEOCLOUD_SERVING_DATA``, else
    ``../shared/reference/serving-silicon`` beside the repository."""
    env = os.environ.get(SERVING_DATA_ENV)
    return ServingFiles(data_dir or (Path(env) if env else SERVING_DATA), allow_paths=allow_paths)


def serving_service(url: str | None, data_dir: Path | None = None) -> ServingService:
    """The serving plan for the CLI: on the ledger at ``url`` (for leases and sites), or
    on none (counts and presets); the user's own ``config.json`` paths are allowed."""
    clock = SystemClock()
    leasing = leasing_service(url, clock) if url else None
    return ServingService(leasing, serving_models(data_dir, allow_paths=True), clock)


def _services(
    store: SqlStore | MemoryStore,
    clock: Clock,
    *,
    database: str,
    server: bool,
    new_id: Callable[[], str] | None = None,
    terms: Terms | None = None,
    models: ServingModels | None = None,
    tco: TcoFn | None = None,
) -> Services:
    staleness = SERVER_READ_STALENESS_S if server else 0.0
    leasing = _leasing(store, clock, staleness, new_id=new_id, terms=terms, tco=tco)
    cost = cost_service(leasing.fleet)
    if tco is None:
        _margins_from(cost, leasing)
    return Services(
        leasing=leasing,
        pricing=leasing.pricing or pricing_service(store, clock),
        keys=KeyService(store, clock, cache_s=SERVER_KEY_CACHE_S if server else 0.0),
        clock=clock,
        database=database,
        cost=cost,
        deal_costs=tco_cost_source(cost.assumptions),
        serving=ServingService(leasing, models or serving_models(), clock),
        billing=BillingService(store, leasing, clock),
        queues=QueueService(store, leasing, clock),
        studies=StudyService(
            store, clock, fleet=leasing.fleet, costs=tco_cost_source(cost.assumptions), traces=read_jobs
        ),
    )


def deal_costs(override: Path | None = None) -> CostSource:
    """What capacity costs, for deals: the cost model under :func:`assumptions`, read
    when a deal is first costed (a bad override file fails that request, not the start)."""
    return tco_cost_source(lambda: assumptions(override))


def worker_app() -> FastAPI:
    """The app of one uvicorn worker process (``neocloud serve --workers N``), on the
    database named by ``NEOCLOUD_DB`` (and with the scrape token in
    ``NEOCLOUD_METRICS_TOKEN``, if set). Each worker has its own cached view of the
    ledger, caught up with the others' commits by version: they share the database,
    not memory."""
    from neocloud.api.app import create_app
    from neocloud.api.metrics import SCRAPE_ENV_VAR

    url = os.environ.get("NEOCLOUD_DB")
    if not url:
        raise RuntimeError("NEOCLOUD_DB is not set: neocloud serve sets it for its workers")
    from neocloud.api.body_limit import DEFAULT_MAX_BODY_BYTES

    limit = os.environ.get(MAX_BODY_BYTES_ENV, str(DEFAULT_MAX_BODY_BYTES))
    if not (limit.isascii() and limit.isdigit()):
        raise RuntimeError(f"{MAX_BODY_BYTES_ENV}={limit!r} is not a number of bytes")
    return create_app(
        services(url, server=True), metrics_token=os.environ.get(SCRAPE_ENV_VAR), max_body_bytes=int(limit)
    )


# The serving latency model's files: model configs and GPU system files default to the
# shared reference data beside the repository (../shared/reference/serving-silicon).
SERVING_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "serving-silicon"


def serving_inputs(configs_dir: Path | None = None, systems_dir: Path | None = None) -> ServingInputs:
    """Architectures, GPU systems and the shipped coefficients for the latency model."""
    return serving_files.serving_inputs(
        configs_dir or SERVING_DATA / "model_configs", systems_dir or SERVING_DATA / "systems"
    )


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV's header and rows as text."""
    return serving_files.read_rows(path)


def write_table(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    serving_files.write_rows(path, header, rows)


def write_text(path: Path, text: str) -> None:
    serving_files.write_text(path, text)


def write_result_table(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, ResultValue]]) -> None:
    """A sweep's rows as CSV, or Parquet for a ``.parquet`` name (adapters/result_table.py)."""
    result_table.write_rows(path, columns, rows)


def parquet_ready() -> bool:
    """Whether ``.parquet`` outputs can be written here (pyarrow is installed)."""
    return result_table.parquet_ready()
