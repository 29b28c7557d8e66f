"""Pollux (OSDI'21) and Sia (SOSP'23) workloads: ``name, time, application, num_replicas, batch_size``.

Sources (``../shared/traces``, README sections 9 and 10):

* ``pollux-osdi21-workloads/workloads*/workload-N.csv`` (petuum/adaptdl branch
  ``osdi21-artifact`` @c793c708: simulator/, Apache-2.0): 160 jobs per workload over
  about 8 h, sampled from the Philly list by Pollux's ``workload.py``;
  ``workloads-realistic`` has the same jobs with small untuned configurations.
* ``sia-sosp23-workloads/`` (siasosp23/artifacts @aaf7a0de: sia-simulator/workloads/,
  no licence stated: research use): ``philly/`` 8 x 160 jobs and
  ``scale-saturn/rate_R/`` 10 workloads per rate, the same columns (``time`` written
  ``401.0``).

Read as: ``id`` = ``name``; ``arrival_s`` = ``time``, seconds from the workload's start
(Pollux's generator writes the time of day of a Philly submission, less the start
hour); ``gpus`` = ``num_replicas`` (one GPU per replica); :class:`AdaptiveDetail` keeps
``application``, ``num_replicas`` and ``batch_size``. No tenant, no deadline.

The files give work, not time: ``duration_s`` is the run time of the job at its
``num_replicas`` and ``batch_size``, from the application profiles, as Pollux's
simulator runs it under a non-adaptive scheduler (its Tiresias baseline): see
:mod:`neocloud.adapters.traces.profiles` for the formula. An application without a
profile, or a configuration outside it, is an error naming the row and the
application. Sia's simulator has profiles per GPU type that are not in ../shared; the
Pollux profiles stand in for them (the traces README: "the Pollux application
profiles above apply to the same apps"), so Sia durations are those of Pollux's
testbed GPUs.

The profiles folder is ``profiles`` when given, else the first ``application_profiles``
or ``pollux-osdi21-workloads/application_profiles`` found in the workload's folder or
one above it. Every shipped workload is in arrival order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neocloud.adapters.traces._table import read_table
from neocloud.adapters.traces.profiles import GPUS_PER_NODE, ProfileError, load_profile
from neocloud.domain.errors import TraceError
from neocloud.domain.workload import AdaptiveDetail, TraceJob

NAME, TIME, APPLICATION, REPLICAS, BATCH = "name", "time", "application", "num_replicas", "batch_size"
PROFILES_DIR = "application_profiles"
POLLUX_DIR = "pollux-osdi21-workloads"


def read_pollux(path: Path, profiles: Path | None = None, gpus_per_node: int = GPUS_PER_NODE) -> Iterator[TraceJob]:
    """The jobs of a Pollux or Sia workload at ``path``, in file order (see the module doc)."""
    rows = read_table(path, (NAME, TIME, APPLICATION, REPLICAS, BATCH))
    folder = profiles
    durations: dict[tuple[str, int, int], float] = {}
    for row in rows:
        folder = folder or find_profiles(path)
        app, replicas, batch = row.text(APPLICATION), row.count(REPLICAS), row.count(BATCH)
        if replicas == 0:
            row.fail(REPLICAS, "0 replicas: a job needs at least one GPU")
        key = (app, replicas, batch)
        if key not in durations:
            try:
                durations[key] = load_profile(folder, app).run_time_s(replicas, batch, gpus_per_node)
            except ProfileError as exc:
                row.fail(APPLICATION, str(exc))
        detail = AdaptiveDetail(app, replicas, batch)
        yield TraceJob(row.text(NAME), row.seconds(TIME), replicas, durations[key], detail=detail)


def find_profiles(workload: Path) -> Path:
    """The profiles folder for ``workload`` (see the module doc); :class:`TraceError` when none is found."""
    here = workload.resolve().parent
    for folder in (here, *here.parents):
        for candidate in (folder / PROFILES_DIR, folder / POLLUX_DIR / PROFILES_DIR):
            if candidate.is_dir():
                return candidate
    raise TraceError(str(workload), "", f"no {PROFILES_DIR}/ folder in its folder or one above it")
