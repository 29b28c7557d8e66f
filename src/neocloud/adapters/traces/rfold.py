"""RFold's derived job lists (Philly and Crux): ``#job id, arrival time (sec), topology, shape, size, duration (sec)``.

Sources (``../shared/traces``, README sections 1 and 6), both made by shuoshuc/RFold
@b9814553 (WorkloadGen/data/, MIT) from the official job logs:

* ``microsoft-philly-2017/derived_rfold_philly_trace.csv.gz``: 111,549 Philly jobs
  (Philly data CC BY 4.0); arrival measured from 2017-08-14 23:27:00, span 129.4 days;
  duration = start of the first attempt to the end of the last; all statuses kept.
* ``alibaba-lingjun-crux-2023/derived_rfold_crux_jobs.csv``: 2,498 Lingjun jobs (data
  Apache-2.0); its size column is named ``size(#GPUs)``.

Read as: ``id`` = ``#job id``; ``arrival_s`` = ``arrival time (sec)`` (the file's own
origin; the shipped Philly file has sub-second values, kept); ``gpus`` = ``size`` (or
``size(#GPUs)``); ``duration_s`` = ``duration (sec)`` (0 allowed: 10 Philly and 241 Crux
jobs have it); ``detail`` = :class:`ShapeDetail` with ``topology`` and ``shape`` split
on ``+`` (its parts must sum to the size). No tenant, no deadline. Both shipped files
are in arrival order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neocloud.adapters.traces._table import Row, read_table
from neocloud.domain.errors import TraceError
from neocloud.domain.workload import ShapeDetail, TraceJob

JOB_ID, ARRIVAL, TOPOLOGY, SHAPE, DURATION = "#job id", "arrival time (sec)", "topology", "shape", "duration (sec)"
#: The size column: ``size`` in the Philly list, ``size(#GPUs)`` in the Crux one.
SIZES = ("size", "size(#GPUs)")


def read_rfold(path: Path) -> Iterator[TraceJob]:
    """The jobs of an RFold job list at ``path``, in file order (see the module doc)."""
    rows = read_table(path, (JOB_ID, ARRIVAL, TOPOLOGY, SHAPE, DURATION), optional=SIZES)
    size: str | None = None
    shapes: dict[tuple[str, str], tuple[ShapeDetail, int]] = {}
    for row in rows:
        if size is None:
            size = _size_column(path, row)
        gpus, key = row.count(size), (row.raw(TOPOLOGY), row.raw(SHAPE))
        known = shapes.get(key)
        if known is None:
            detail = _shape(row)
            known = shapes[key] = (detail, sum(detail.parts))
        if known[1] != gpus:
            row.fail(SHAPE, f"{key[1]!r} has {known[1]} GPUs but {size!r} is {gpus}")
        yield TraceJob(row.text(JOB_ID), row.seconds(ARRIVAL), gpus, row.seconds(DURATION), detail=known[0])


def _size_column(path: Path, row: Row) -> str:
    for name in SIZES:
        if row.has(name):
            return name
    expected = " or ".join(repr(s) for s in SIZES)
    raise TraceError(str(path), "row 1", f"missing column {expected} (the job's GPUs)")


def _shape(row: Row) -> ShapeDetail:
    text = row.text(SHAPE)
    parts = []
    for part in text.split("+"):
        if not part.strip().isdigit() or int(part) == 0:
            row.fail(SHAPE, f"{text!r} is not GPUs per part joined by '+' (such as '4+4')")
        parts.append(int(part))
    return ShapeDetail(row.text(TOPOLOGY), tuple(parts))
