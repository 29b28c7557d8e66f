"""Philly jobs with their virtual cluster (Pollux's copy): ``timestamp, duration, num_gpus, gpu_time, cluster``.

Source: ``microsoft-philly-2017/derived_pollux_philly_jobs_with_vc.csv.gz`` (petuum/adaptdl
branch ``osdi21-artifact`` @c793c708: simulator/traces/philly.csv, Apache-2.0; Philly
data CC BY 4.0): 82,247 jobs of 15 VCs submitted 2017-09-04 to 2017-12-22 (README
section 1). Pollux and Sia sample their workloads from it.

``timestamp`` is a submission time written ``YYYY-MM-DD HH:MM:SS`` with no zone (Pollux's
generator reads it with pandas and keeps only its time of day). Read as:

* ``arrival_s`` = seconds from ``origin``, by default the file's earliest timestamp
  (found by a first streaming pass over that column alone), so the first submission
  arrives at 0; pass ``origin`` to put several files on one clock;
* ``id`` = the data-row ordinal from 0 (the file has no id column);
* ``gpus`` = ``num_gpus``; ``duration_s`` = ``duration`` (seconds); ``gpu_time`` must be
  ``duration x num_gpus`` (it is in every row of the shipped file), a cheap check that
  the columns are the ones meant;
* ``tenant`` = ``cluster``, the VC's hash (``6214e9``).

The file is **not** in arrival order (44,878 rows arrive before the row above them):
sort with ``neocloud.domain.workload.in_arrival_order``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from neocloud.adapters.traces._table import Row, read_table
from neocloud.domain.workload import TraceJob

TIMESTAMP, DURATION, GPUS, GPU_TIME, CLUSTER = "timestamp", "duration", "num_gpus", "gpu_time", "cluster"
COLUMNS = (TIMESTAMP, DURATION, GPUS, GPU_TIME, CLUSTER)
#: Relative tolerance of the ``gpu_time = duration x num_gpus`` check.
GPU_TIME_TOLERANCE = 1e-9


def read_philly_vc(path: Path, origin: datetime | None = None) -> Iterator[TraceJob]:
    """The jobs of the file at ``path`` in file order, arrivals in seconds from ``origin`` (see the module doc)."""
    start = origin if origin is not None else earliest_timestamp(path)
    for ordinal, row in enumerate(read_table(path, COLUMNS)):
        gpus, duration_s = row.count(GPUS), row.seconds(DURATION)
        gpu_time = row.seconds(GPU_TIME)
        if abs(gpu_time - gpus * duration_s) > GPU_TIME_TOLERANCE * max(gpu_time, 1.0):
            row.fail(GPU_TIME, f"{row.raw(GPU_TIME)!r} is not duration x num_gpus ({gpus * duration_s:g})")
        arrival_s = (_timestamp(row) - start).total_seconds()
        if arrival_s < 0:
            row.fail(TIMESTAMP, f"{row.raw(TIMESTAMP)!r} is before the origin {start}")
        yield TraceJob(str(ordinal), arrival_s, gpus, duration_s, tenant=row.text(CLUSTER))


def earliest_timestamp(path: Path) -> datetime:
    """The earliest ``timestamp`` of the file (one streaming pass over that column)."""
    return min(_timestamp(row) for row in read_table(path, COLUMNS))


def _timestamp(row: Row) -> datetime:
    value = row.text(TIMESTAMP)
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        row.fail(TIMESTAMP, f"{value!r} is not a time such as '2017-10-09 07:01:55'")
    if stamp.tzinfo is not None:
        row.fail(TIMESTAMP, f"{value!r} has a time zone; the format's times have none")
    return stamp
