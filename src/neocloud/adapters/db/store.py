"""The ledger store on a SQL database: SQLite (embedded default) or PostgreSQL.

Same contract as :class:`neocloud.adapters.memory.MemoryStore` (the reference):
every committed write bumps ``ledger_meta.version`` and stamps the rows it wrote
with it, so readers catch up with ``delta_since``; writers are serialised by the
database and each ``writing()`` block is one transaction.

- SQLite: WAL, ``synchronous=FULL``, foreign keys on, a 30 s busy timeout. The
  driver's own transaction handling is switched off (SQLAlchemy's pysqlite
  recipe) so that writes start with ``BEGIN IMMEDIATE``: the write lock is taken
  before the version is read, and readers keep reading a consistent snapshot.
- PostgreSQL (psycopg 3): a write takes ``SELECT ... FOR UPDATE`` on the version
  row first; reads run in REPEATABLE READ so that a delta is one snapshot.

The database refuses overlapping bookings: PostgreSQL's exclusion constraint and
SQLite's triggers, both named ``bookings_no_overlap`` (see the migrations). New
bookings are inserted under a savepoint; on a refusal the store rolls back to it,
finds the conflicts with one query (:func:`find_conflicts`) and raises
:class:`BookingConflict` with them, the same on both databases.

The write path is built for one small transaction per lease. Booking ids come
from ``ledger_meta.next_booking_id``, read with the version under the write lock
and bumped with it, so inserts need no ``RETURNING``. Its statements are fixed SQL
strings run on the DBAPI cursor (no SQL compilation per transaction; psycopg
prepares them server-side after a few uses), and on PostgreSQL the statements of
one ``write()`` go in one round trip (a psycopg pipeline), as do ``BEGIN`` and the
locking ``SELECT``. Connections come from SQLAlchemy's pool, one per transaction
(a checkout is a few microseconds; the pragmas run once per new connection).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    exc,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url

from neocloud.adapters.db import billing, models, queue, studies
from neocloud.adapters.db.codec import (
    decode_lease,
    encode_lease,
    gpu_model_from_row,
    gpu_model_row,
    json_default,
)
from neocloud.adapters.db.models import NO_OVERLAP
from neocloud.adapters.pricefile import cards_from_json, cards_to_json
from neocloud.domain.access import ApiKey, Role
from neocloud.domain.billing import CreditNote, Deposit, Invoice, InvoiceChange, InvoiceQuery
from neocloud.domain.catalog import BUILTIN_MODELS, builtin_catalog
from neocloud.domain.changes import Change, Delta, Event, EventQuery, IdempotentResult, StoredEvent, StoreError
from neocloud.domain.fleet import Block, Fleet, Node, Pod, Rack, Site
from neocloud.domain.health import Health, HealthRecord
from neocloud.domain.leases import Lease
from neocloud.domain.ledger import Booking, BookingConflict, Draft, HolderKind
from neocloud.domain.queue import Entry, PoolConfig
from neocloud.domain.studies import Study, StudyStatus
from neocloud.economics.pricebook import PriceBook

__all__ = ["MIGRATIONS", "SUPPORTED_URLS", "SqlStore", "SqlWriter", "alembic_config", "make_engine", "open_store"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

SUPPORTED_URLS = (
    "sqlite:///relative/path.db or sqlite:////absolute/path.db (SQLite, a file), "
    "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE or postgresql+psycopg://... (PostgreSQL, psycopg 3)"
)

NO_FLEET = "no fleet loaded: run neocloud init --fleet FILE"

#: Rows per statement for ``IN (...)`` lists and bulk inserts.
CHUNK = 500
#: Key of the PostgreSQL advisory lock that serialises schema upgrades.
_SCHEMA_LOCK = 0x6E656F636C6F7564  # "neocloud"
_EXCLUSION_VIOLATION = "23P01"
_SQLITE_READONLY = 8  # the primary result code; the extended codes share its low byte

T = models.Base.metadata.tables
META: Table = T["ledger_meta"]
SITES: Table = T["sites"]
PODS: Table = T["pods"]
BLOCKS: Table = T["blocks"]
RACKS: Table = T["racks"]
GPU_MODELS: Table = T["gpu_models"]
NODES: Table = T["nodes"]
BOOKINGS: Table = T["bookings"]
LEASES: Table = T["leases"]
TENANTS: Table = T["tenants"]
API_KEYS: Table = T["api_keys"]
HEALTH_LOG: Table = T["health_log"]
EVENTS: Table = T["events"]
PRICE_BOOKS: Table = T["price_books"]

X = TypeVar("X")


# -- opening -------------------------------------------------------------------------
def open_store(url: str) -> SqlStore:
    """The store behind ``url``; raises :class:`StoreError` naming the URL if it is not usable."""
    return SqlStore(make_engine(url))


def make_engine(url: str) -> Engine:
    """A configured engine for a supported URL (see :data:`SUPPORTED_URLS`)."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise StoreError(f"database URL {_redact(url)!r} is not a URL; supported: {SUPPORTED_URLS}") from None
    backend, _, driver = parsed.drivername.partition("+")
    shown = parsed.render_as_string(hide_password=True)
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return _sqlite_engine(parsed, shown)
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        if not parsed.database:
            raise StoreError(f"database URL {shown!r} names no database; expected {SUPPORTED_URLS}")
        return create_engine(parsed.set(drivername="postgresql+psycopg"), json_serializer=_dumps)
    what = f"driver {driver!r} for {backend}" if driver else f"database kind {backend!r}"
    raise StoreError(f"unsupported database URL {shown!r} ({what}); supported: {SUPPORTED_URLS}")


def _sqlite_engine(url: URL, shown: str) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query:
        raise StoreError(
            f"database URL {shown!r}: give the path of a SQLite file (an in-memory database is neither "
            f"durable nor shared between connections); supported: {SUPPORTED_URLS}"
        )
    folder = Path(database).parent
    if not folder.is_dir():
        raise StoreError(f"database URL {shown!r}: folder {str(folder)!r} does not exist")
    engine = create_engine(url.set(drivername="sqlite+pysqlite"), json_serializer=_dumps)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The pysqlite recipe: the driver emits no BEGIN of its own; _sqlite_begin does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in ("busy_timeout=30000", "journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


_SQLITE_BEGIN = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}


def _sqlite_begin(conn: Connection) -> None:
    # On the driver's connection: a statement through SQLAlchemy costs more than BEGIN itself.
    statement = _SQLITE_BEGIN[conn.get_execution_options().get("sqlite_begin", "DEFERRED")]
    dbapi = conn.dialect.loaded_dbapi
    try:
        conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except dbapi.Error as e:  # e.g. "database is locked" after the busy timeout
        raise exc.DBAPIError.instance(statement, None, e, dbapi.Error, dialect=conn.dialect) from e


#: JSON text for the documents the store writes (one encoder, built once).
_dumps = json.JSONEncoder(default=json_default).encode


def _redact(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for the ledger's migrations, built in code (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# -- the store -----------------------------------------------------------------------
class SqlStore:
    """A :class:`~neocloud.services.ports.LedgerStore` on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.url = engine.url.render_as_string(hide_password=True)
        self._reader: Engine
        self._writer: Engine
        if self.dialect == "sqlite":
            self._reader = engine
            self._writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        else:
            self._reader = engine.execution_options(isolation_level="REPEATABLE READ")
            self._writer = engine

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"

    # -- schema and fleet ------------------------------------------------------------
    def create_schema(self) -> None:
        with self._errors("create or upgrade the schema"), self._writer.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def load_fleet(self, fleet: Fleet, now_s: int, actor: str) -> None:
        with self._errors("load the fleet"), self._writer.begin() as conn:
            meta = conn.execute(
                select(META.c.fleet_loaded_s, META.c.fleet_name).where(META.c.id == 1).with_for_update()
            ).one()
            if meta.fleet_loaded_s is not None:
                raise StoreError(f"the store already holds fleet {meta.fleet_name!r}")
            for table, items in (
                (SITES, fleet.sites),
                (PODS, fleet.pods),
                (BLOCKS, fleet.blocks),
                (RACKS, fleet.racks),
            ):
                _insert_many(conn, table, [_topology_row(x, k) for k, x in enumerate(items)])
            custom = [m for m in fleet.catalog.models() if m not in BUILTIN_MODELS]
            _insert_many(conn, GPU_MODELS, [gpu_model_row(m, k) for k, m in enumerate(custom)])
            _insert_many(conn, NODES, _node_rows(fleet.nodes))
            _insert_many(
                conn,
                HEALTH_LOG,
                [
                    {"node_id": n.id, "at_s": now_s, "state": n.health.value, "reason": f"fleet loaded by {actor}"}
                    for n in fleet.nodes
                    if n.health is not Health.HEALTHY
                ],
            )
            conn.execute(
                update(META)
                .where(META.c.id == 1)
                .values(fleet_loaded_s=now_s, fleet_loaded_by=actor, fleet_name=fleet.name)
            )

    def fleet(self) -> Fleet:
        with self._errors("read the fleet"), self._reader.begin() as conn:
            meta = conn.execute(select(META.c.fleet_loaded_s, META.c.fleet_name).where(META.c.id == 1)).one()
            if meta.fleet_loaded_s is None:
                raise StoreError(NO_FLEET)
            custom = [
                gpu_model_from_row(dict(r._mapping)) for r in conn.execute(select(GPU_MODELS).order_by("position"))
            ]
            return Fleet(
                catalog=builtin_catalog().with_models(custom),
                name=meta.fleet_name,
                sites=[
                    Site(r.name, r.region, r.power_mw, r.pue, r.electricity_usd_per_kwh, r.facility_power_mw)
                    for r in conn.execute(select(SITES).order_by("position"))
                ],
                pods=[Pod(r.name, r.site) for r in conn.execute(select(PODS).order_by("position"))],
                blocks=[Block(r.name, r.site, r.pod) for r in conn.execute(select(BLOCKS).order_by("position"))],
                racks=[
                    Rack(r.name, r.site, r.pod, r.block, r.power_kw)
                    for r in conn.execute(select(RACKS).order_by("position"))
                ],
                nodes=[
                    Node(
                        r.id,
                        r.serial,
                        r.gpu_model,
                        r.gpu_count,
                        r.site,
                        r.pod,
                        r.block,
                        r.rack,
                        r.nvlink_domain,
                        Health(r.health),
                        gpu_serials=tuple(r.gpu_serials or ()),
                    )
                    for r in conn.execute(select(NODES).order_by("position"))
                ],
            )

    # -- reads -----------------------------------------------------------------------
    def delta_since(self, version: int) -> Delta:
        with self._errors("read the ledger"), self._reader.begin() as conn:
            return _delta(conn, version)

    def events(self, query: EventQuery) -> list[StoredEvent]:
        e = EVENTS.c
        stmt = select(EVENTS).where(e.seq > query.after_seq)
        for column, value in ((e.lease_id, query.lease_id), (e.node, query.node), (e.tenant, query.tenant)):
            if value is not None:
                stmt = stmt.where(column == value)
        if query.kind is not None:  # a case-sensitive prefix match (SQLite's LIKE ignores case)
            stmt = stmt.where(func.substr(e.kind, 1, len(query.kind)) == literal(query.kind))
        if query.since_s is not None:
            stmt = stmt.where(e.at_s >= query.since_s)
        if query.until_s is not None:
            stmt = stmt.where(e.at_s < query.until_s)
        stmt = stmt.order_by(e.seq).limit(max(query.limit, 0))
        with self._errors("read events"), self._reader.begin() as conn:
            return [
                StoredEvent(
                    r.seq,
                    Event(r.kind, r.subject, r.at_s, r.actor, r.tenant, r.lease_id, r.node, r.before, r.after),
                )
                for r in conn.execute(stmt)
            ]

    def health_log(self, nodes: list[str]) -> Iterator[tuple[str, int, Health]]:
        h = HEALTH_LOG.c
        records: list[tuple[int, int, str, str]] = []
        with self._errors("read the health log"), self._reader.begin() as conn:
            for chunk in _chunks(sorted(set(nodes))):
                stmt = select(h.at_s, h.id, h.node_id, h.state).where(h.node_id.in_(chunk))
                records.extend((r.at_s, r.id, r.node_id, r.state) for r in conn.execute(stmt))
        records.sort()
        return iter([(node, at_s, Health(state)) for at_s, _, node, state in records])

    def health_records(self, node: str) -> list[HealthRecord]:
        h = HEALTH_LOG.c
        stmt = select(h.at_s, h.state, h.reason).where(h.node_id == node).order_by(h.at_s, h.id)
        with self._errors("read the health log"), self._reader.begin() as conn:
            return [HealthRecord(node, r.at_s, Health(r.state), r.reason) for r in conn.execute(stmt)]

    # -- API keys (written through SqlWriter) -----------------------------------------
    def get_key(self, key_id: str) -> ApiKey | None:
        with self._errors("read API keys"), self._reader.begin() as conn:
            row = conn.execute(select(API_KEYS).where(API_KEYS.c.id == key_id)).one_or_none()
        return None if row is None else _key(row)

    def list_keys(self) -> list[ApiKey]:
        with self._errors("read API keys"), self._reader.begin() as conn:
            rows = conn.execute(select(API_KEYS).order_by(API_KEYS.c.created_s, API_KEYS.c.id)).all()
        return [_key(r) for r in rows]

    def price_books(self) -> list[PriceBook]:
        with self._errors("read the price book"), self._reader.begin() as conn:
            return _price_books(conn)

    # -- billing's documents (adapters/db/billing.py; written through SqlWriter) --------
    def invoices(self, query: InvoiceQuery) -> list[Invoice]:
        with self._errors("read invoices"), self._reader.begin() as conn:
            return billing.invoices(conn, query)

    def invoice(self, invoice_id: str) -> Invoice | None:
        with self._errors("read an invoice"), self._reader.begin() as conn:
            return billing.invoice(conn, invoice_id)

    def credit_notes(self, tenant: str | None = None, invoice_id: str | None = None) -> list[CreditNote]:
        with self._errors("read credit notes"), self._reader.begin() as conn:
            return billing.credit_notes(conn, tenant, invoice_id)

    def credit_note(self, note_id: str) -> CreditNote | None:
        with self._errors("read a credit note"), self._reader.begin() as conn:
            return billing.credit_note(conn, note_id)

    def deposits(self, tenant: str | None = None) -> list[Deposit]:
        with self._errors("read deposits"), self._reader.begin() as conn:
            return billing.deposits(conn, tenant)

    # -- live job queues (adapters/db/queue.py; written through SqlWriter) -------------
    def queue_pools(self) -> list[PoolConfig]:
        with self._errors("read the queues"), self._reader.begin() as conn:
            return queue.pools(conn)

    def queue_entries(self, pool: str, after_seq: int = 0) -> list[Entry]:
        with self._errors("read a queue's journal"), self._reader.begin() as conn:
            return queue.entries(conn, pool, after_seq)

    # -- stored studies (adapters/db/studies.py; each call its own short transaction) ---
    def add_study(self, study: Study) -> None:
        with self._errors("store a study"):
            studies.add(self._writer, study)

    def study_progress(self, study_id: str, done: int) -> None:
        with self._errors("record a study's progress"):
            studies.progress(self._writer, study_id, done)

    def finish_study(
        self,
        study_id: str,
        status: StudyStatus,
        at_s: int,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self._errors("finish a study"):
            studies.finish(self._writer, study_id, status, at_s, result=result, error=error)

    def studies(self) -> list[Study]:
        with self._errors("read the studies"):
            return studies.studies(self._reader)

    def study(self, study_id: str) -> Study | None:
        with self._errors("read a study"):
            return studies.study(self._reader, study_id)

    def study_named(self, name: str) -> bool:
        with self._errors("read the studies"):
            return studies.named(self._reader, name)

    # -- writes ----------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[SqlWriter]:
        with self._errors("write to the ledger"), self._writer.begin() as conn:
            driver = _Driver(conn)
            try:
                version, next_booking_id, loaded = driver.lock()
                if loaded is None:
                    raise StoreError(NO_FLEET)
                yield SqlWriter(conn, driver, version, next_booking_id, loaded)
            finally:
                driver.close()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Database trouble (unreachable, no schema, locked) as a StoreError naming the database."""
        try:
            yield
        except (exc.OperationalError, exc.ProgrammingError) as e:
            reason = str(e.orig).strip() if e.orig is not None else str(e)
            hint = ""
            if "no such table" in reason or getattr(e.orig, "sqlstate", None) == "42P01":
                hint = " (no neocloud schema here: run neocloud init)"
            elif self.dialect == "sqlite" and getattr(e.orig, "sqlite_errorcode", 0) & 0xFF == _SQLITE_READONLY:
                hint = _unwritable(Path(self.engine.url.database or ""))
            raise StoreError(f"{self.url}: cannot {doing}: {reason}{hint}") from e


class SqlWriter:
    """A write transaction holding the database's write lock."""

    def __init__(
        self, conn: Connection, driver: _Driver, version: int, next_booking_id: int, fleet_loaded_s: int
    ) -> None:
        self._conn = conn
        self._driver = driver
        self.version = version
        self.fleet_loaded_s = fleet_loaded_s
        self._next_booking_id = next_booking_id

    def delta_since(self, version: int) -> Delta:
        return _delta(self._conn, version)

    def write(self, change: Change) -> list[Booking]:
        d, sql = self._driver, self._driver.sql
        v = self.version + 1
        if change.truncate or change.release:
            self._cut(change.truncate, change.release, v)
        for draft in change.book:
            if draft.start_s > draft.end_s:
                raise StoreError(f"booking of node {draft.node!r}: end {draft.end_s} is before start {draft.start_s}")
        first_id = self._next_booking_id
        bookings = [
            (first_id + k, b.node, b.start_s, b.end_s, b.kind.value, b.holder, v) for k, b in enumerate(change.book)
        ]
        leases: dict[str, Lease] = {}
        for lease in change.leases:  # one row per lease: the last record written wins
            leases[lease.id] = lease
        health = {h.node: h.to_state.value for h in change.health}  # the last change of a node wins
        try:
            with d.batch():  # PostgreSQL: one round trip
                if bookings:
                    d.run(sql.savepoint)
                    d.many(sql.book, bookings)
                    d.run(sql.release_savepoint)
                if leases:
                    d.many(
                        sql.lease,
                        [
                            (x.id, x.tenant, x.state.value, x.created_s, v, v, _dumps(encode_lease(x)))
                            for x in leases.values()
                        ],
                    )
                if health:
                    d.many(sql.node_health, [(state, v, node) for node, state in health.items()])
                    d.many(sql.health_log, [(h.node, h.at_s, h.to_state.value, h.reason) for h in change.health])
                if change.events:
                    d.many(sql.event, [_event_row(e) for e in change.events])
                d.run(sql.bump, (v, first_id + len(bookings)))
        except exc.IntegrityError as e:
            if not bookings or not d.is_overlap(e):
                raise
            d.run(sql.rollback_to_savepoint)  # the bookings go; the cuts made before stay visible
            d.run(sql.release_savepoint)
            conflicts = find_conflicts(self._conn, change.book)
            if not conflicts:
                raise StoreError(f"the database refused overlapping bookings: {e.orig}") from e
            raise BookingConflict(conflicts) from e
        self._next_booking_id = first_id + len(bookings)
        self.version = v
        return [Booking(first_id + k, b.node, b.start_s, b.end_s, b.kind, b.holder) for k, b in enumerate(change.book)]

    def add_tenant(self, name: str, now_s: int, actor: str) -> None:
        v = self.version + 1
        stmt = _upsert(self._conn)(TENANTS).values(name=name, created_s=now_s, created_by=actor, version=v)
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"version": v}))
        self._driver.run(self._driver.sql.bump, (v, self._next_booking_id))
        self.version = v

    # -- API keys and idempotent results, in the same transaction -------------------------
    def last_health(self, node: str) -> tuple[int, Health] | None:
        h = HEALTH_LOG.c
        stmt = select(h.at_s, h.state).where(h.node_id == node).order_by(h.at_s.desc(), h.id.desc()).limit(1)
        row = self._conn.execute(stmt).first()
        return None if row is None else (int(row.at_s), Health(row.state))

    def result(self, scope: str, key: str) -> IdempotentResult | None:
        row = self._driver.one(self._driver.sql.result, (scope, key))
        return None if row is None else IdempotentResult(*row)

    def keep_result(self, scope: str, key: str, result: IdempotentResult) -> None:
        row = (scope, key, result.request_hash, result.status, result.body, result.created_s)
        try:
            self._driver.run(self._driver.sql.keep_result, row)
        except exc.IntegrityError as e:  # the primary key (scope, key): the transaction is void
            raise StoreError(f"Idempotency-Key {key!r} already holds a result") from e

    def add_key(self, key: ApiKey) -> None:
        row = {
            "id": key.id,
            "secret_sha256": key.secret_sha256,
            "role": key.role.value,
            "tenant": key.tenant,
            "created_s": key.created_s,
            "created_by": key.created_by,
            "label": key.label,
            "revoked_s": key.revoked_s,
        }
        self._conn.execute(API_KEYS.insert(), [row])

    def price_books(self) -> list[PriceBook]:
        return _price_books(self._conn)

    def publish_prices(self, book: PriceBook) -> None:
        row = {
            "version": book.version,
            "effective_s": book.effective_s,
            "created_s": book.created_s,
            "author": book.author,
            "note": book.note,
            "cards": cards_to_json(book.cards),
        }
        try:
            with self._conn.begin_nested():
                self._conn.execute(PRICE_BOOKS.insert(), [row])
        except exc.IntegrityError as e:  # the primary key: a version is written once
            raise StoreError(f"price book version {book.version} already exists") from e

    # -- live job queues, in the same transaction (adapters/db/queue.py) ---------------
    def add_queue_pool(self, pool: PoolConfig) -> None:
        queue.add_pool(self._conn, pool)

    def queue_pools(self) -> list[PoolConfig]:
        return queue.pools(self._conn)

    def append_queue(self, pool: str, entries: Sequence[Entry]) -> None:
        queue.append(self._conn, pool, entries)

    def queue_entries(self, pool: str, after_seq: int = 0) -> list[Entry]:
        return queue.entries(self._conn, pool, after_seq)

    # -- billing's documents, in the same transaction (adapters/db/billing.py) ----------
    def add_invoice(self, invoice: Invoice) -> None:
        billing.add_invoice(self._conn, invoice)

    def change_invoice(self, invoice_id: str, change: InvoiceChange) -> None:
        billing.change_invoice(self._conn, invoice_id, change)

    def add_credit_note(self, note: CreditNote) -> None:
        billing.add_credit_note(self._conn, note)

    def add_deposit(self, deposit: Deposit) -> None:
        billing.add_deposit(self._conn, deposit)

    def invoices(self, query: InvoiceQuery) -> list[Invoice]:
        return billing.invoices(self._conn, query)

    def invoice(self, invoice_id: str) -> Invoice | None:
        return billing.invoice(self._conn, invoice_id)

    def credit_notes(self, tenant: str | None = None, invoice_id: str | None = None) -> list[CreditNote]:
        return billing.credit_notes(self._conn, tenant, invoice_id)

    def credit_note(self, note_id: str) -> CreditNote | None:
        return billing.credit_note(self._conn, note_id)

    def deposits(self, tenant: str | None = None) -> list[Deposit]:
        return billing.deposits(self._conn, tenant)

    def revoke_key(self, key_id: str, at_s: int) -> ApiKey | None:
        k = API_KEYS.c
        self._conn.execute(update(API_KEYS).where(k.id == key_id, k.revoked_s.is_(None)).values(revoked_s=at_s))
        row = self._conn.execute(select(API_KEYS).where(k.id == key_id)).one_or_none()
        return None if row is None else _key(row)

    # -- internals -------------------------------------------------------------------
    def _cut(self, truncate: Sequence[tuple[int, int]], release: Sequence[int], v: int) -> None:
        """Truncations (a cut at or before the start is a release: the empty interval),
        then releases; refuses ids that name no booking."""
        d = self._driver
        changed = 0
        if truncate:
            changed += d.many(d.sql.truncate, [(end_s, end_s, v, booking_id) for booking_id, end_s in truncate])
        if release:
            changed += d.many(d.sql.release, [(v, booking_id) for booking_id in release])
        if changed != len(truncate) + len(release):
            _require_bookings(self._conn, [i for i, _ in truncate] + list(release))


@dataclass(frozen=True, slots=True)
class _WriteSql:
    """The write path's statements in one dialect's SQL and parameter style."""

    lock: str
    bump: str
    truncate: str
    release: str
    book: str
    lease: str
    node_health: str
    health_log: str
    event: str
    result: str
    keep_result: str
    savepoint: str = "SAVEPOINT neocloud_book"
    release_savepoint: str = "RELEASE SAVEPOINT neocloud_book"
    rollback_to_savepoint: str = "ROLLBACK TO SAVEPOINT neocloud_book"


def _write_sql(postgres: bool) -> _WriteSql:
    """Written with ``?`` placeholders (sqlite3's style), turned into psycopg's ``%s`` on PostgreSQL."""
    sql = _WriteSql(
        lock="SELECT version, next_booking_id, fleet_loaded_s FROM ledger_meta WHERE id = 1",
        bump="UPDATE ledger_meta SET version = ?, next_booking_id = ? WHERE id = 1",
        truncate="UPDATE bookings SET end_s = CASE WHEN ? < start_s THEN start_s ELSE ? END, version = ? WHERE id = ?",
        release="UPDATE bookings SET end_s = start_s, version = ? WHERE id = ?",
        book="INSERT INTO bookings (id, node_id, start_s, end_s, kind, holder, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
        lease=(
            "INSERT INTO leases (id, tenant, state, created_s, first_version, version, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, "
            "state = excluded.state, created_s = excluded.created_s, version = excluded.version, "
            "record = excluded.record"
        ),
        node_health="UPDATE nodes SET health = ?, version = ? WHERE id = ?",
        health_log="INSERT INTO health_log (node_id, at_s, state, reason) VALUES (?, ?, ?, ?)",
        event=(
            'INSERT INTO events (kind, subject, at_s, actor, tenant, lease_id, node, "before", "after") '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        result='SELECT request_hash, status, body, created_s FROM idempotency WHERE scope = ? AND "key" = ?',
        keep_result=(
            'INSERT INTO idempotency (scope, "key", request_hash, status, body, created_s) VALUES (?, ?, ?, ?, ?, ?)'
        ),
    )
    if not postgres:
        return sql  # BEGIN IMMEDIATE took the write lock
    pg = {name: getattr(sql, name).replace("?", "%s") for name in _WriteSql.__slots__}
    pg["lock"] += " FOR UPDATE"
    return _WriteSql(**pg)


_SQL = {"sqlite": _write_sql(postgres=False), "postgresql": _write_sql(postgres=True)}


class _Driver:
    """The DBAPI connection under a SQLAlchemy connection, for the write path's fixed
    statements. Driver errors come out as SQLAlchemy's (``exc.IntegrityError``, ...)."""

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect
        self.postgres = conn.dialect.name == "postgresql"
        self.sql = _SQL[conn.dialect.name]
        self._error: type[Exception] = conn.dialect.loaded_dbapi.Error
        self._raw: Any = conn.connection.driver_connection
        assert self._raw is not None  # an open connection
        self._cursor: Any = self._raw.cursor()

    def close(self) -> None:
        self._cursor.close()

    def lock(self) -> tuple[int, int, int | None]:
        """The version row under the write lock (PostgreSQL: ``BEGIN`` and the
        ``SELECT ... FOR UPDATE`` in one round trip)."""
        with self.batch():
            self.run(self.sql.lock)
        version, next_booking_id, loaded = self._cursor.fetchone()
        return version, next_booking_id, loaded

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row of a query, or ``None``."""
        with self._translated(sql, params):
            self._cursor.execute(sql, params)
            row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Runs one statement; the rows it changed (unknown, -1, inside a PostgreSQL batch)."""
        with self._translated(sql, params):
            self._cursor.execute(sql, params)
            return int(self._cursor.rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Runs one statement once per row; the rows changed (unknown inside a PostgreSQL batch)."""
        with self._translated(sql, rows):
            self._cursor.executemany(sql, rows)
            return int(self._cursor.rowcount)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """On PostgreSQL the statements inside go in one round trip (a pipeline); an
        error surfaces by the end of the block and skips the statements after it."""
        if not self.postgres:
            yield
            return
        with self._translated("(pipeline)", None), self._raw.pipeline():
            yield

    def is_overlap(self, e: exc.IntegrityError) -> bool:
        """Whether the database refused overlapping bookings (constraint or trigger)."""
        if self.postgres:
            return getattr(e.orig, "sqlstate", None) == _EXCLUSION_VIOLATION
        return str(e.orig).startswith(NO_OVERLAP)

    @contextmanager
    def _translated(self, sql: str, params: Any) -> Iterator[None]:
        try:
            yield
        except self._error as e:
            raise exc.DBAPIError.instance(sql, params, e, self._error, dialect=self.dialect) from e


# -- shared queries --------------------------------------------------------------------
def find_conflicts(conn: Connection, drafts: Sequence[Draft]) -> list[tuple[Draft, Booking | Draft]]:
    """Drafts that overlap a stored non-empty booking of their node, or an earlier
    draft; for each, the first (lowest id) booking or earliest draft it overlaps."""
    b = BOOKINGS.c
    stored: dict[str, list[Booking]] = {}
    live = [d for d in drafts if d.start_s < d.end_s]
    if live:
        first, last = min(d.start_s for d in live), max(d.end_s for d in live)
        for chunk in _chunks(sorted({d.node for d in live})):
            stmt = (
                select(b.id, b.node_id, b.start_s, b.end_s, b.kind, b.holder)
                .where(b.node_id.in_(chunk), b.start_s < b.end_s, b.start_s < last, b.end_s > first)
                .order_by(b.id)
            )
            for r in conn.execute(stmt):
                stored.setdefault(r.node_id, []).append(
                    Booking(r.id, r.node_id, r.start_s, r.end_s, HolderKind(r.kind), r.holder)
                )
    conflicts: list[tuple[Draft, Booking | Draft]] = []
    seen: dict[str, list[Draft]] = {}
    for d in live:
        clash = next((x for x in stored.get(d.node, ()) if x.start_s < d.end_s and d.start_s < x.end_s), None)
        if clash is not None:
            conflicts.append((d, clash))
            continue
        mine = seen.setdefault(d.node, [])
        other = next((o for o in mine if o.start_s < d.end_s and d.start_s < o.end_s), None)
        if other is not None:
            conflicts.append((d, other))
        mine.append(d)
    return conflicts


def _delta(conn: Connection, since: int) -> Delta:
    version = conn.execute(select(META.c.version).where(META.c.id == 1)).scalar_one()
    if version == since:
        return Delta(version=version)
    b, le, n, t = BOOKINGS.c, LEASES.c, NODES.c, TENANTS.c
    bookings = [
        Booking(r.id, r.node_id, r.start_s, r.end_s, HolderKind(r.kind), r.holder)
        for r in conn.execute(
            select(b.id, b.node_id, b.start_s, b.end_s, b.kind, b.holder).where(b.version > since).order_by(b.id)
        )
    ]
    leases = [
        decode_lease(record)
        for record in conn.execute(
            select(le.record).where(le.version > since).order_by(le.first_version, le.created_s, le.id)
        ).scalars()
    ]
    health = {
        r.id: Health(r.health)
        for r in conn.execute(select(n.id, n.health).where(n.version > since).order_by(n.position))
    }
    tenants = set(conn.execute(select(t.name).where(t.version > since)).scalars())
    return Delta(version=version, bookings=bookings, leases=leases, health=health, tenants=tenants)


def _require_bookings(conn: Connection, ids: list[int]) -> None:
    if not ids:
        return
    wanted = set(ids)
    found: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        found.update(conn.execute(select(BOOKINGS.c.id).where(BOOKINGS.c.id.in_(chunk))).scalars())
    missing = sorted(wanted - found)
    if missing:
        raise StoreError(f"no booking with id {', '.join(map(str, missing[:10]))}{' ...' if len(missing) > 10 else ''}")


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany per chunk of rows (a 100k-GPU lease is 12,500 bookings)."""
    for k in range(0, len(rows), 10 * CHUNK):
        conn.execute(insert(table), rows[k : k + 10 * CHUNK])


def _price_books(conn: Connection) -> list[PriceBook]:
    rows = conn.execute(select(PRICE_BOOKS).order_by(PRICE_BOOKS.c.version)).all()
    return [PriceBook(r.version, r.effective_s, cards_from_json(r.cards), r.author, r.note, r.created_s) for r in rows]


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id, row.secret_sha256, Role(row.role), row.tenant, row.created_s, row.created_by, row.label, row.revoked_s
    )


def _upsert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _chunks(items: Sequence[X], size: int = CHUNK) -> Iterator[Sequence[X]]:
    for k in range(0, len(items), size):
        yield items[k : k + size]


def _unwritable(database: Path) -> str:
    """Which of a SQLite database's files this process cannot write, as a hint: SQLite
    says "attempt to write a readonly database" whether the file, its ``-wal``, its
    ``-shm`` or the folder they are made in is read-only."""
    files = [database, database.with_name(f"{database.name}-wal"), database.with_name(f"{database.name}-shm")]
    blocked = [str(f) for f in files if f.exists() and not os.access(f, os.W_OK)]
    folder = database.parent
    if not all(f.exists() for f in files) and not os.access(folder, os.W_OK):
        blocked.append(f"{folder}/ (the folder, where SQLite makes the -wal and -shm files)")
    if not blocked:
        return ""
    return f" ({', '.join(blocked)}: not writable by this process's user; give it write access)"


def _event_row(e: Event) -> tuple[Any, ...]:
    return (e.kind, e.subject, e.at_s, e.actor, e.tenant, e.lease_id, e.node, _json(e.before), _json(e.after))


def _json(value: object) -> str | None:
    """A JSON document for the driver; ``None`` is SQL NULL (as with the models' ``JSON_DOC``)."""
    return None if value is None else _dumps(value)


def _node_rows(nodes: list[Node]) -> list[dict[str, Any]]:
    """The nodes as rows; ``gpu_serials`` (a JSON list, NULL for none) only when some node
    has GPU serials, so a fleet without them writes the columns every schema version has."""
    rows = [_topology_row(n, k, version=0) for k, n in enumerate(nodes)]
    if not any(n.gpu_serials for n in nodes):
        for row in rows:
            del row["gpu_serials"]
        return rows
    for row, n in zip(rows, nodes, strict=True):
        row["gpu_serials"] = list(n.gpu_serials) or None
    return rows


def _topology_row(obj: Any, position: int, **extra: Any) -> dict[str, Any]:
    """A site, pod, block, rack or node as a row: its fields (enums by value, not the
    health history, which lives in health_log), its load position, and ``extra``."""
    row = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "history"}
    return {**{k: v.value if isinstance(v, Enum) else v for k, v in row.items()}, "position": position, **extra}
