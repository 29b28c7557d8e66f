"""Workload trace readers: job lists with arrivals from ../shared/traces, as :class:`TraceJob` values.

Each reader takes any file of its schema (gzip when the name ends in ``.gz``), streams
it (one row read, one job yielded), and raises :class:`TraceError` naming the file,
the row and the column at the first bad row. Readers yield jobs in file order and
never sort: :attr:`TraceFormat.in_arrival_order` says whether the format's files are
(checked on every shipped file by the tests); sort the others with
:func:`neocloud.domain.workload.in_arrival_order`. docs/simulator.md#trace-readers
describes every format, its source and licence, and how each field is derived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from neocloud.adapters.traces.chronus import read_chronus
from neocloud.adapters.traces.openb import read_openb
from neocloud.adapters.traces.philly_vc import read_philly_vc
from neocloud.adapters.traces.pollux import read_pollux
from neocloud.adapters.traces.rfold import read_rfold
from neocloud.adapters.traces.tiresias import read_tiresias
from neocloud.domain.errors import TraceError
from neocloud.domain.workload import TraceJob

Reader = Callable[[Path], Iterator[TraceJob]]


@dataclass(frozen=True, slots=True)
class TraceFormat:
    """A trace format: its reader, whether its files are in arrival order, and what it is."""

    read: Reader
    in_arrival_order: bool
    about: str


FORMATS: dict[str, TraceFormat] = {
    "philly": TraceFormat(read_rfold, True, "Philly jobs (RFold's list): 111,549 jobs, sizes and durations"),
    "philly-vc": TraceFormat(read_philly_vc, False, "Philly jobs with their VC (Pollux's list): 82,247 jobs"),
    "tiresias": TraceFormat(read_tiresias, True, "Tiresias' simulator format: job_id, num_gpu, submit_time..."),
    "pollux": TraceFormat(read_pollux, True, "Pollux workloads: durations from the application profiles"),
    "sia": TraceFormat(read_pollux, True, "Sia workloads (Pollux's columns and profiles)"),
    "chronus": TraceFormat(read_chronus, False, "Chronus SLO jobs: deadlines, per-user; times in minutes"),
    "crux": TraceFormat(read_rfold, True, "Alibaba Lingjun jobs (RFold's Crux list): 2,498 jobs"),
    "openb": TraceFormat(read_openb, True, "Alibaba openb pods: fractional GPUs, CPU, memory, GPU models"),
}


def read_jobs(fmt: str, path: Path) -> Iterator[TraceJob]:
    """The jobs of the ``fmt`` trace at ``path``, streamed in file order.

    An unknown ``fmt`` is a :class:`TraceError` naming the formats; a bad file or row
    is one naming the file, the row and the column.
    """
    trace = FORMATS.get(fmt)
    if trace is None:
        raise TraceError(str(path), "", f"unknown trace format {fmt!r}; one of {', '.join(FORMATS)}")
    return trace.read(path)


__all__ = ["FORMATS", "TraceError", "TraceFormat", "read_jobs"]
