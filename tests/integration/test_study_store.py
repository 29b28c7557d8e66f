"""Stored studies on every store (memory, SQLite, PostgreSQL; the same bodies): a study
is created running, moves on, finishes once with its result kept bit for bit, and a
finished study never changes; a name is used once."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from neocloud.domain.clock import ManualClock
from neocloud.domain.studies import StudyExists, StudyFinished, StudyKind, StudyStatus
from neocloud.services.studies import StudyService
from tests.integration.stores import STORE_KINDS, store_factory

START = datetime(2027, 1, 4, tzinfo=UTC)
#: a result with what a stored document must keep exactly: floats, money as strings,
#: nested lists, and a mean over no finished job (NaN), stored as null
RESULT = {
    "recommendation": "lease 50%: ...",
    "options": [{"fraction": 0.5, "delay_mean_s": 0.1 + 0.2, "npv": "-23577178.17", "units": ["a", "b"]}],
    "nothing_finished": math.nan,
}


@pytest.fixture(params=STORE_KINDS)
def studies(request: pytest.FixtureRequest) -> StudyService:
    store = store_factory(request.param, request)()
    store.create_schema()
    ids = iter(f"S-{k}" for k in range(100))
    return StudyService(store, ManualClock(START), new_id=lambda: next(ids))  # type: ignore[arg-type]


def test_a_study_runs_moves_on_and_finishes_with_its_result_kept_exactly(studies: StudyService):
    s = studies.start(StudyKind.KEEP_VS_LEASE, "half-or-all", actor="op", inputs={"fractions": (0, 0.5)}, total=2)
    assert (s.status, s.done, s.total, s.progress) == (StudyStatus.RUNNING, 0, 2, 0.0)
    studies.progress(s.id, 1)
    (listed,) = studies.studies()
    assert (listed.name, listed.status, listed.done, listed.progress) == ("half-or-all", StudyStatus.RUNNING, 1, 0.5)
    studies.finish(s.id, RESULT)
    got = studies.study(s.id)
    assert (got.status, got.done, got.finished_s) == (StudyStatus.DONE, 2, got.created_s)
    assert got.inputs == {"fractions": [0, 0.5]}
    assert got.result == {**RESULT, "nothing_finished": None}
    assert got.result["options"][0]["delay_mean_s"] == 0.1 + 0.2  # bit for bit


def test_a_finished_study_is_written_once(studies: StudyService):
    s = studies.start(StudyKind.SWEEP, "grid", actor="op", inputs={}, total=4)
    studies.finish(s.id, {"rows": [], "about": {}})
    with pytest.raises(StudyFinished, match="written once"):
        studies.finish(s.id, {"rows": [{"forged": 1}], "about": {}})
    with pytest.raises(StudyFinished):
        studies.fail(s.id, "too late")
    studies.progress(s.id, 1)  # a late progress report leaves it as it is
    got = studies.study(s.id)
    assert (got.status, got.done, got.result, got.error) == (StudyStatus.DONE, 4, {"rows": [], "about": {}}, None)


def test_a_failed_study_keeps_its_error_and_no_result(studies: StudyService):
    s = studies.start(StudyKind.KEEP_VS_LEASE, "broken", actor="op", inputs={}, total=3)
    studies.progress(s.id, 1)
    studies.fail(s.id, "RequestError: fraction: ...")
    got = studies.study(s.id)
    assert (got.status, got.done, got.error, got.result) == (StudyStatus.FAILED, 1, "RequestError: fraction: ...", None)


def test_a_name_is_used_once(studies: StudyService):
    studies.record(StudyKind.SWEEP, "grid", actor="cli", inputs={}, result={"rows": []}, total=1)
    with pytest.raises(StudyExists, match="'grid'"):
        studies.start(StudyKind.KEEP_VS_LEASE, "grid", actor="op", inputs={}, total=1)
    with pytest.raises(StudyExists, match="--save: a study named 'grid'"):
        studies.check_free("grid", "--save")
    assert [s.name for s in studies.studies()] == ["grid"]


def test_the_list_is_newest_first_without_inputs_or_results(studies: StudyService):
    clock = studies.clock
    assert isinstance(clock, ManualClock)
    for k, name in enumerate(("first", "second", "third")):
        clock.set(START.replace(hour=k))
        studies.record(StudyKind.SWEEP, name, actor="cli", inputs={"k": k}, result={"rows": [k]}, total=1)
    listed = studies.studies()
    assert [s.name for s in listed] == ["third", "second", "first"]
    assert all(s.result is None and s.inputs == {} for s in listed)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_database_refuses_changing_or_deleting_a_finished_study(kind: str, request: pytest.FixtureRequest):
    store = store_factory(kind, request)()
    store.create_schema()
    studies = StudyService(store, ManualClock(START))  # type: ignore[arg-type]
    running = studies.start(StudyKind.SWEEP, "running", actor="op", inputs={}, total=2)
    done = studies.record(StudyKind.SWEEP, "done", actor="op", inputs={}, result={"rows": [1]}, total=1)
    engine = store.engine  # type: ignore[attr-defined]
    for sql in (
        f"UPDATE studies SET result = NULL WHERE id = '{done.id}'",
        f"DELETE FROM studies WHERE id = '{done.id}'",
    ):
        with pytest.raises(Exception, match="studies_finished"), engine.begin() as conn:
            conn.execute(text(sql))
    with engine.begin() as conn:  # a running study's row moves on
        conn.execute(text(f"UPDATE studies SET done = 1 WHERE id = '{running.id}'"))
    assert studies.study(done.id).result == {"rows": [1]}
    assert studies.study(running.id).done == 1
