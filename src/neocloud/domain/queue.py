"""A live job queue's journal and its configuration, as stored (issue 13 section 1).

An internal pool's queue (Kueue's ClusterQueue) is its :class:`PoolConfig` and the
journal of what happened to it, :class:`Entry` values numbered from 1 per pool. The
scheduler's state is replayed from the journal (``neocloud.scheduling.live``); the
store appends entries and never changes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from neocloud.domain.errors import DomainError

#: Bounds of what a queue accepts [D: our own; far beyond any real workload, and inside
#: what the scheduler's int64 arrays and a date can hold]: GPUs per workload, a
#: priority's magnitude, an estimated run time (10 years), a restart cost (30 days),
#: and a name's or team's length.
MAX_WORKLOAD_GPUS = 10_000_000
MAX_PRIORITY = 1_000_000
MAX_ESTIMATE_S = 10 * 365 * 86_400.0
MAX_RESTART_S = 30 * 86_400.0
MAX_NAME = 200


def label_problems(field: str, value: str) -> list[str]:
    """Why ``value`` is not a name or team (1 to 200 printable characters, not blank)."""
    if not value.strip():
        return [f"{field}: must not be empty"]
    if len(value) > MAX_NAME:
        return [f"{field}: {len(value)} characters; at most {MAX_NAME}"]
    if not value.isprintable():
        return [f"{field}: {value!r} holds a control character"]
    return []


class PoolExists(DomainError):
    """A queue for this pool exists already (the store's key refused a second)."""


class Kind(StrEnum):
    SUBMIT = "submit"
    START = "start"
    PREEMPT = "preempt"
    REJECT = "reject"
    CYCLE = "cycle"
    FINISH = "finish"
    CANCEL = "cancel"
    CAPACITY = "capacity"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a queue's journal. ``job`` is the workload's number in the pool
    (submission order from 0; -1 for ``cycle`` and ``capacity``); ``at_s`` is float
    seconds from the pool's origin. A ``submit`` carries the workload (``name``,
    ``team``, ``gpus``, ``estimate_s``, ``priority``); a ``start`` its GPUs (``nodes``
    by id, ``counts``) and whether it resumes; a ``preempt`` or ``reject`` its
    ``reason``; a ``capacity`` the node (``nodes[0]``), the GPUs it offers from then
    (``gpus``) and why (``reason``)."""

    seq: int
    at_s: float
    kind: Kind
    job: int = -1
    name: str = ""
    team: str = ""
    gpus: int = 0
    estimate_s: float = 0.0
    priority: int = 0
    nodes: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()
    resume: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TeamQuota:
    """A team's quota in a pool, in Kueue's terms (``None``: no limit)."""

    team: str
    nominal: int
    borrowing_limit: int | None = None
    lending_limit: int | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """An internal pool's queue: its scheduling policy and placement, the restart cost
    of a preemption, the teams' quotas (fair share), and its origin (epoch seconds:
    the journal's time 0). Its capacity is the ledger's: the nodes booked to the pool
    (``HolderKind.POOL``, holder ``name``) that are healthy."""

    name: str
    policy: str
    placement: str
    restart_s: float
    origin_s: int
    created_s: int
    actor: str
    quotas: tuple[TeamQuota, ...] = ()
