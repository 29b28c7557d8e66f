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
  row first; reads run in REPEATABLE READ so that a delta is one snapshot. The
  exclusion constraint ``bookings_no_overlap`` refuses overlapping bookings.

Both raise :class:`BookingConflict` for overlapping bookings with the same
conflicts: SQLite checks in SQL before inserting, PostgreSQL inserts under a
savepoint and, if the constraint refuses, finds the conflicts the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Table,
    bindparam,
    case,
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

from neocloud.adapters.db import models
from neocloud.adapters.db.codec import (
    decode_lease,
    encode_lease,
    gpu_model_from_row,
    gpu_model_row,
    json_default,
)
from neocloud.domain.catalog import BUILTIN_MODELS, builtin_catalog
from neocloud.domain.changes import Change, Delta, Event, EventQuery, StoredEvent, StoreError
from neocloud.domain.fleet import Block, Fleet, Node, Pod, Rack, Site
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease
from neocloud.domain.ledger import Booking, BookingConflict, Draft, HolderKind

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
HEALTH_LOG: Table = T["health_log"]
EVENTS: Table = T["events"]

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


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _dumps(value: object) -> str:
    return json.dumps(value, default=json_default)


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
            meta = conn.execute(select(META).where(META.c.id == 1).with_for_update()).one()
            if meta.fleet_loaded_s is not None:
                raise StoreError(f"the store already holds fleet {meta.fleet_name!r}")
            _insert_many(conn, SITES, [_site_row(s, k) for k, s in enumerate(fleet.sites)])
            _insert_many(
                conn, PODS, [{"name": p.name, "position": k, "site": p.site} for k, p in enumerate(fleet.pods)]
            )
            _insert_many(
                conn,
                BLOCKS,
                [{"name": b.name, "position": k, "site": b.site, "pod": b.pod} for k, b in enumerate(fleet.blocks)],
            )
            _insert_many(conn, RACKS, [_rack_row(r, k) for k, r in enumerate(fleet.racks)])
            custom = [m for m in fleet.catalog.models() if m not in BUILTIN_MODELS]
            _insert_many(conn, GPU_MODELS, [gpu_model_row(m, k) for k, m in enumerate(custom)])
            _insert_many(conn, NODES, [_node_row(n, k) for k, n in enumerate(fleet.nodes)])
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
            meta = conn.execute(select(META).where(META.c.id == 1)).one()
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

    # -- writes ----------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[SqlWriter]:
        with self._errors("write to the ledger"), self._writer.begin() as conn:
            meta = conn.execute(select(META.c.version, META.c.fleet_loaded_s).where(META.c.id == 1).with_for_update())
            version, loaded = meta.one()
            if loaded is None:
                raise StoreError(NO_FLEET)
            yield SqlWriter(conn, version)

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
            raise StoreError(f"{self.url}: cannot {doing}: {reason}{hint}") from e


class SqlWriter:
    """A write transaction holding the database's write lock."""

    def __init__(self, conn: Connection, version: int) -> None:
        self._conn = conn
        self.version = version

    def delta_since(self, version: int) -> Delta:
        return _delta(self._conn, version)

    def write(self, change: Change) -> list[Booking]:
        conn = self._conn
        v = self.version + 1
        b = BOOKINGS.c
        _require_bookings(conn, [i for i, _ in change.truncate] + list(change.release))
        if change.truncate:  # a cut at or before the start is a release (the empty interval)
            cut = bindparam("new_end", type_=BigInteger)
            new_end = case((cut < b.start_s, b.start_s), else_=cut)
            conn.execute(
                update(BOOKINGS).where(b.id == bindparam("booking_id")).values(end_s=new_end, version=v),
                [{"booking_id": i, "new_end": end} for i, end in change.truncate],
            )
        for chunk in _chunks(list(change.release)):
            conn.execute(update(BOOKINGS).where(b.id.in_(chunk)).values(end_s=b.start_s, version=v))
        booked = self._book(change.book, v)
        self._write_leases(change.leases, v)
        if change.health:
            last = {h.node: h.to_state.value for h in change.health}
            n = NODES.c
            conn.execute(
                update(NODES).where(n.id == bindparam("node_id")).values(health=bindparam("state"), version=v),
                [{"node_id": node, "state": state} for node, state in last.items()],
            )
            _insert_many(
                conn,
                HEALTH_LOG,
                [
                    {"node_id": h.node, "at_s": h.at_s, "state": h.to_state.value, "reason": h.reason}
                    for h in change.health
                ],
            )
        _insert_many(conn, EVENTS, [_event_row(e) for e in change.events])
        self._bump(v)
        return booked

    def add_tenant(self, name: str, now_s: int, actor: str) -> None:
        v = self.version + 1
        stmt = _upsert(self._conn)(TENANTS).values(name=name, created_s=now_s, created_by=actor, version=v)
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"version": v}))
        self._bump(v)

    # -- internals -------------------------------------------------------------------
    def _bump(self, v: int) -> None:
        self._conn.execute(update(META).where(META.c.id == 1).values(version=v))
        self.version = v

    def _book(self, drafts: Sequence[Draft], v: int) -> list[Booking]:
        if not drafts:
            return []
        for d in drafts:
            if d.start_s > d.end_s:
                raise StoreError(f"booking of node {d.node!r}: end {d.end_s} is before start {d.start_s}")
        conn = self._conn
        rows = [
            {"node_id": d.node, "start_s": d.start_s, "end_s": d.end_s, "kind": d.kind.value, "holder": d.holder}
            for d in drafts
        ]
        stmt = insert(BOOKINGS).values(version=v).returning(BOOKINGS.c.id, sort_by_parameter_order=True)
        if conn.dialect.name == "postgresql":
            try:
                with conn.begin_nested():  # the exclusion constraint decides; the savepoint keeps the transaction
                    ids = list(conn.execute(stmt, rows).scalars())
            except exc.IntegrityError as e:
                if getattr(e.orig, "sqlstate", None) != _EXCLUSION_VIOLATION:
                    raise
                conflicts = find_conflicts(conn, drafts)
                if not conflicts:
                    raise StoreError(f"the database refused overlapping bookings: {e.orig}") from e
                raise BookingConflict(conflicts) from e
        else:
            conflicts = find_conflicts(conn, drafts)
            if conflicts:
                raise BookingConflict(conflicts)
            ids = list(conn.execute(stmt, rows).scalars())
        return [Booking(i, d.node, d.start_s, d.end_s, d.kind, d.holder) for i, d in zip(ids, drafts, strict=True)]

    def _write_leases(self, leases: Iterable[Lease], v: int) -> None:
        latest: dict[str, Lease] = {}
        for lease in leases:  # one row per lease: the last record written wins
            latest[lease.id] = lease
        if not latest:
            return
        stmt = _upsert(self._conn)(LEASES)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "tenant": stmt.excluded.tenant,
                "state": stmt.excluded.state,
                "created_s": stmt.excluded.created_s,
                "version": stmt.excluded.version,
                "record": stmt.excluded.record,
            },
        )
        self._conn.execute(
            stmt,
            [
                {
                    "id": lease.id,
                    "tenant": lease.tenant,
                    "state": lease.state.value,
                    "created_s": lease.created_s,
                    "first_version": v,
                    "version": v,
                    "record": encode_lease(lease),
                }
                for lease in latest.values()
            ],
        )


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


def _upsert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _chunks(items: Sequence[X], size: int = CHUNK) -> Iterator[Sequence[X]]:
    for k in range(0, len(items), size):
        yield items[k : k + size]


def _event_row(e: Event) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "subject": e.subject,
        "at_s": e.at_s,
        "actor": e.actor,
        "tenant": e.tenant,
        "lease_id": e.lease_id,
        "node": e.node,
        "before": e.before,
        "after": e.after,
    }


def _site_row(s: Site, position: int) -> dict[str, Any]:
    return {
        "name": s.name,
        "position": position,
        "region": s.region,
        "power_mw": s.power_mw,
        "pue": s.pue,
        "electricity_usd_per_kwh": s.electricity_usd_per_kwh,
        "facility_power_mw": s.facility_power_mw,
    }


def _rack_row(r: Rack, position: int) -> dict[str, Any]:
    return {
        "name": r.name,
        "position": position,
        "site": r.site,
        "pod": r.pod,
        "block": r.block,
        "power_kw": r.power_kw,
    }


def _node_row(n: Node, position: int) -> dict[str, Any]:
    return {
        "id": n.id,
        "position": position,
        "serial": n.serial,
        "gpu_model": n.gpu_model,
        "gpu_count": n.gpu_count,
        "site": n.site,
        "pod": n.pod,
        "block": n.block,
        "rack": n.rack,
        "nvlink_domain": n.nvlink_domain,
        "health": n.health.value,
        "version": 0,
    }
