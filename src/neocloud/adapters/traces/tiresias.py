"""Tiresias' job format (NSDI'19): ``job_id, num_gpu, submit_time, iterations, model_name, duration, interval``.

Source: ``tiresias-nsdi19/60_job.csv`` (SymbioticLab/Tiresias @959f9b08: simulator/,
Apache-2.0), a 60-job toy trace, and any file written for Tiresias' simulator (issue
12 section 7 compares JCT with that simulator on a Philly window in this format).

Read as Tiresias' own simulator reads it (``simulator/run_sim.py`` ``parse_job_file``
and ``jobs.py`` ``add_job``; its README defines the columns):

* ``submit_time`` is seconds from the trace's start (its README: "the time value
  starts from 0, and in second-scale") -> ``arrival_s``. Tiresias keeps only whole
  values (its reader turns digit strings into ints and leaves others as strings);
  this reader keeps a fraction where the file has one;
* ``duration`` is the run time in seconds on ``num_gpu`` GPUs, the time from start to
  the completion event; Tiresias truncates it with ``int(float(duration))``, and so
  does this reader, so that JCTs compare on the same input;
* ``num_gpu`` -> ``gpus``; ``job_id`` -> ``id``;
* ``iterations``, ``model_name`` and ``interval`` (seconds to the next submission) go to
  :class:`ModelDetail` when present; Tiresias' schedulers use none of them.

Tiresias' simulator sorts its jobs by ``submit_time`` (a stable sort); this reader
yields them in file order: the shipped file is in arrival order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from neocloud.adapters.traces._table import read_table
from neocloud.domain.workload import ModelDetail, TraceJob

JOB_ID, GPUS, SUBMIT, DURATION = "job_id", "num_gpu", "submit_time", "duration"
ITERATIONS, MODEL, INTERVAL = "iterations", "model_name", "interval"


def read_tiresias(path: Path) -> Iterator[TraceJob]:
    """The jobs of a Tiresias trace at ``path``, in file order (see the module doc)."""
    for row in read_table(path, (JOB_ID, GPUS, SUBMIT, DURATION), optional=(ITERATIONS, MODEL, INTERVAL)):
        iterations = row.count(ITERATIONS) if row.optional_text(ITERATIONS) is not None else None
        detail = ModelDetail(row.optional_text(MODEL), iterations, row.optional_seconds(INTERVAL))
        duration_s = float(math.trunc(row.seconds(DURATION)))
        yield TraceJob(row.text(JOB_ID), row.seconds(SUBMIT), row.count(GPUS), duration_s, detail=detail)
