"""Chronus' deadline workloads (SoCC'21): Philly jobs with synthetic SLOs.

Source: ``chronus-socc21-philly-slo/trace_job_Philly_{MIX1,MIX2,SLO}.csv.gz``
(S-Lab-System-Group/ChronusArtifact @bc7e15fe: code/data/exp/, MIT): 30,940 jobs each,
columns ``job_id, user, num_gpu, submit_time, iterations, model_name, duration,
interval, expect_time_list, expect_value_list, best_effort, job_type``.

Time unit: **minutes**. The traces README leaves it open (submit times reach 20,151,
about 14 days in minutes). Chronus' scheduler settles it: it takes the hour of day as
``lease_index * lease_term_interval // 60 % 24`` (code/alg/scheduler/
time_aware_with_lease.py), so its clock counts minutes. Every time column is
multiplied by 60 here.

Read as Chronus' ``main.py`` ``parse_job_file`` reads it:

* ``arrival_s`` = ``submit_time`` x 60; ``duration_s`` = ``duration`` x 60 (the run time
  its simulator completes the job after); ``gpus`` = ``num_gpu``; ``tenant`` = ``user``
  (a Philly VC, ``vc_6214e9``); ``id`` = ``job_id``;
* ``expect_time_list`` / ``expect_value_list`` are ``-``-joined whole numbers (Chronus
  splits them on ``-``); its deadline is the first expect time after submission
  (``main.py``: ``expect_time = expect_time_list[0]``), so ``deadline_s`` = ``arrival_s``
  + first expect x 60 for ``strict`` and ``soft`` jobs (a soft job's value decays
  over the later expect times: MIX2 has 18,525 of them) and ``None`` for best-effort
  ones (``best_effort`` 1 exactly when ``job_type`` is ``best``);
* Chronus skips jobs with ``num_gpu`` 0 (583 rows over the three files); this reader
  yields them with ``gpus`` 0 and leaves the choice to the caller.

The files are **not** in arrival order (Chronus sorts by ``submit_time``): sort with
``neocloud.domain.workload.in_arrival_order``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neocloud.adapters.traces._table import Row, read_table
from neocloud.domain.workload import DeadlineDetail, TraceJob

JOB_ID, USER, GPUS, SUBMIT, ITERATIONS, MODEL = "job_id", "user", "num_gpu", "submit_time", "iterations", "model_name"
DURATION, INTERVAL, EXPECT_TIMES, EXPECT_VALUES = "duration", "interval", "expect_time_list", "expect_value_list"
BEST_EFFORT, JOB_TYPE = "best_effort", "job_type"
COLUMNS: tuple[str, ...] = (JOB_ID, USER, GPUS, SUBMIT, ITERATIONS, MODEL, DURATION, INTERVAL)
COLUMNS += (EXPECT_TIMES, EXPECT_VALUES, BEST_EFFORT, JOB_TYPE)
#: Seconds per unit of the files' times (minutes; see the module doc).
TIME_UNIT_S = 60.0
#: ``job_type`` -> whether it is best effort (``best_effort`` 1).
JOB_TYPES = {"strict": False, "soft": False, "best": True}


def read_chronus(path: Path) -> Iterator[TraceJob]:
    """The jobs of a Chronus trace at ``path``, in file order (see the module doc)."""
    for row in read_table(path, COLUMNS):
        arrival_s = row.seconds(SUBMIT) * TIME_UNIT_S
        detail = _detail(row)
        deadline_s = None if detail.best_effort else arrival_s + detail.expect_s[0]
        yield TraceJob(
            row.text(JOB_ID),
            arrival_s,
            row.count(GPUS),
            row.seconds(DURATION) * TIME_UNIT_S,
            tenant=row.text(USER),
            deadline_s=deadline_s,
            detail=detail,
        )


def _detail(row: Row) -> DeadlineDetail:
    times = _numbers(row, EXPECT_TIMES)
    values = _numbers(row, EXPECT_VALUES)
    if len(values) != len(times):
        row.fail(EXPECT_VALUES, f"{len(values)} values for {len(times)} expect times")
    job_type = _job_type(row)
    return DeadlineDetail(
        model_name=row.text(MODEL),
        iterations=row.count(ITERATIONS),
        interval_s=row.seconds(INTERVAL) * TIME_UNIT_S,
        expect_s=tuple(t * TIME_UNIT_S for t in times),
        expect_values=tuple(values),
        job_type=job_type,
    )


def _numbers(row: Row, column: str) -> list[int]:
    text = row.text(column)
    parts = text.split("-")
    if not all(p.isdigit() for p in parts):
        row.fail(column, f"{text!r} is not whole numbers joined by '-' (such as '1105-2210')")
    return [int(p) for p in parts]


def _job_type(row: Row) -> str:
    flag, kind = row.text(BEST_EFFORT), row.text(JOB_TYPE)
    if flag not in ("0", "1"):
        row.fail(BEST_EFFORT, f"{flag!r} is not 0 or 1")
    if kind not in JOB_TYPES:
        row.fail(JOB_TYPE, f"{kind!r} is not one of {', '.join(map(repr, JOB_TYPES))}")
    if JOB_TYPES[kind] != (flag == "1"):
        row.fail(JOB_TYPE, f"{kind!r} disagrees with best_effort {flag}")
    return kind
