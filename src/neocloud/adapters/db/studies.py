"""Stored studies on SQLite and PostgreSQL (migration 0008).

Each call is its own short transaction (a study touches no ledger row, so it does not
take the ledger's write lock). A second study of one name is refused by the unique
name; finishing is a guarded write (``WHERE status = 'running'``: 0 rows means it
finished already), and the database refuses any change to a finished row whatever
the code does (the migration's triggers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Table, exc, select, update

from neocloud.adapters.db import models
from neocloud.domain.studies import Study, StudyExists, StudyFinished, StudyKind, StudyStatus

STUDIES: Table = models.Base.metadata.tables["studies"]
_LISTED = [c for c in STUDIES.c if c.name not in ("inputs", "result")]


def add(engine: Engine, study: Study) -> None:
    row = {
        "id": study.id,
        "kind": study.kind.value,
        "name": study.name,
        "actor": study.actor,
        "inputs": dict(study.inputs),
        "status": study.status.value,
        "done": study.done,
        "total": study.total,
        "created_s": study.created_s,
        "finished_s": study.finished_s,
        "error": study.error,
        "result": None if study.result is None else dict(study.result),
    }
    try:
        with engine.begin() as conn:
            conn.execute(STUDIES.insert(), [row])
    except exc.IntegrityError as e:
        raise StudyExists(f"a study named {study.name!r} is stored already") from e


def progress(engine: Engine, study_id: str, done: int) -> None:
    """Move a running study's ``done`` on; a finished one is left as it is."""
    c = STUDIES.c
    with engine.begin() as conn:
        conn.execute(update(STUDIES).where(c.id == study_id, c.status == StudyStatus.RUNNING.value).values(done=done))


def finish(
    engine: Engine,
    study_id: str,
    status: StudyStatus,
    at_s: int,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    c = STUDIES.c
    values: dict[str, Any] = {"status": status.value, "finished_s": at_s, "result": result, "error": error}
    if status is StudyStatus.DONE:
        values["done"] = c.total
    with engine.begin() as conn:
        hit = conn.execute(
            update(STUDIES).where(c.id == study_id, c.status == StudyStatus.RUNNING.value).values(values)
        )
    if hit.rowcount != 1:
        raise StudyFinished(f"study {study_id!r} is finished already (or there is none): it is written once")


def studies(engine: Engine) -> list[Study]:
    """Every study without its inputs and result, newest first."""
    with engine.begin() as conn:
        rows = conn.execute(select(*_LISTED).order_by(STUDIES.c.created_s.desc(), STUDIES.c.id.desc())).all()
    return [_study(r, whole=False) for r in rows]


def study(engine: Engine, study_id: str) -> Study | None:
    with engine.begin() as conn:
        row = conn.execute(select(STUDIES).where(STUDIES.c.id == study_id)).one_or_none()
    return None if row is None else _study(row, whole=True)


def named(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        return conn.execute(select(STUDIES.c.id).where(STUDIES.c.name == name)).first() is not None


def _study(r: Any, *, whole: bool) -> Study:
    return Study(
        r.id,
        StudyKind(r.kind),
        r.name,
        r.actor,
        r.inputs if whole else {},
        StudyStatus(r.status),
        int(r.done),
        int(r.total),
        int(r.created_s),
        None if r.finished_s is None else int(r.finished_s),
        r.error,
        r.result if whole else None,
    )
