"""Live job queues on SQLite and PostgreSQL: pools and their journals (migration 0007).

Writes run on the caller's write transaction (the ledger store's, which holds the
write lock). A second writer of an entry a journal already has is refused by the
``(pool, seq)`` key; that comes back as a :class:`StoreError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Table, exc, select

from neocloud.adapters.db import models
from neocloud.domain.changes import StoreError
from neocloud.domain.queue import Entry, Kind, PoolConfig, PoolExists, TeamQuota

T = models.Base.metadata.tables
POOLS: Table = T["queue_pools"]
ENTRIES: Table = T["queue_entries"]
#: the entry's fields kept in its ``data`` document (the rest are columns)
_DATA = ("name", "team", "gpus", "estimate_s", "priority", "nodes", "counts", "resume", "reason")


def add_pool(conn: Connection, pool: PoolConfig) -> None:
    row = {f: getattr(pool, f) for f in ("name", "policy", "placement", "restart_s", "origin_s", "created_s", "actor")}
    row["quotas"] = [asdict(q) for q in pool.quotas]
    try:
        with conn.begin_nested():
            conn.execute(POOLS.insert(), [row])
    except exc.IntegrityError as e:
        raise PoolExists(f"pool {pool.name!r} has a queue already") from e


def pools(conn: Connection) -> list[PoolConfig]:
    rows = conn.execute(select(POOLS).order_by(POOLS.c.name)).all()
    return [
        PoolConfig(
            r.name,
            r.policy,
            r.placement,
            float(r.restart_s),
            int(r.origin_s),
            int(r.created_s),
            r.actor,
            tuple(TeamQuota(**q) for q in r.quotas),
        )
        for r in rows
    ]


def append(conn: Connection, pool: str, entries: Sequence[Entry]) -> None:
    if not entries:
        return
    rows = [
        {
            "pool": pool,
            "seq": e.seq,
            "at_s": e.at_s,
            "kind": e.kind.value,
            "job": e.job,
            "data": {f: _plain(getattr(e, f)) for f in _DATA},
        }
        for e in entries
    ]
    try:
        with conn.begin_nested():
            conn.execute(ENTRIES.insert(), rows)
    except exc.IntegrityError as e:
        raise StoreError(f"pool {pool!r}: journal entry {entries[0].seq} was written by another writer first") from e


def entries(conn: Connection, pool: str, after_seq: int) -> list[Entry]:
    query = select(ENTRIES).where(ENTRIES.c.pool == pool, ENTRIES.c.seq > after_seq).order_by(ENTRIES.c.seq)
    return [_entry(r) for r in conn.execute(query).all()]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _entry(r: Any) -> Entry:
    d = r.data
    return Entry(
        int(r.seq),
        float(r.at_s),
        Kind(r.kind),
        int(r.job),
        name=d["name"],
        team=d["team"],
        gpus=int(d["gpus"]),
        estimate_s=float(d["estimate_s"]),
        priority=int(d["priority"]),
        nodes=tuple(d["nodes"]),
        counts=tuple(int(c) for c in d["counts"]),
        resume=bool(d["resume"]),
        reason=d["reason"],
    )
