"""Stored studies: keep-vs-lease studies and sweeps as durable records (issue 13 section 5).

The CLI records a study it computed (``--save NAME``: :meth:`StudyService.record`);
the server starts a keep-vs-lease study on its own fleet (:meth:`StudyService.start_keep_vs_lease`)
and computes it on one background thread (:class:`Worker`, docs/design/0009-studies.md),
recording its progress after each fraction so that ``GET /v1/studies/{id}`` shows it
while it runs. Every study is operator only: the edges check the role.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud.domain.clock import Clock, to_s
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.money import Money
from neocloud.domain.studies import Study, StudyExists, StudyKind, StudyStatus, check_name, plain
from neocloud.domain.workload import TraceJob
from neocloud.services.deals import CostSource
from neocloud.services.keep_vs_lease import DEFAULT_MAX_DELAY_S, LeaseTerms
from neocloud.services.ports import StudyStore

log = logging.getLogger(__name__)

TraceOpener = Callable[[str, Path], Iterable[TraceJob]]
#: ``internal`` naming the demo's own internal work (services/demo.py INTERNAL_WORK)
DEMO_WORK = "demo"


def new_study_id() -> str:
    return f"S-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class KeepVsLeaseAsk:
    """A keep-vs-lease study to run on the served fleet (the API's payload, parsed).
    ``internal``: ``demo`` (the demo's internal work, its GPUs as they are) or
    ``FORMAT:PATH`` of a trace the server can read (its GPUs times ``scale``)."""

    name: str
    fractions: tuple[float, ...]
    level: str
    sites: tuple[str, ...]
    internal: str
    terms: LeaseTerms
    scale: float | None = None
    load: float = 1.0
    policy: str = "las"
    placement: str = "count"
    max_delay_s: float = DEFAULT_MAX_DELAY_S


class StudyService:
    def __init__(
        self,
        store: StudyStore,
        clock: Clock,
        *,
        fleet: Callable[[], Any] | None = None,
        costs: CostSource | None = None,
        traces: TraceOpener | None = None,
        new_id: Callable[[], str] = new_study_id,
    ) -> None:
        self.store = store
        self.clock = clock
        self._fleet = fleet
        self._costs = costs
        self._traces = traces
        self._new_id = new_id
        self.worker = Worker()

    # -- reads -----------------------------------------------------------------------
    def studies(self) -> list[Study]:
        return self.store.studies()

    def study(self, study_id: str) -> Study:
        found = self.store.study(study_id)
        if found is None:
            raise NotFound(f"no study {study_id!r}")
        return found

    def check_free(self, name: str, field: str = "name") -> None:
        """Raise naming ``field`` unless ``name`` is a study name no study has yet."""
        check_name(name, field)
        if self.store.study_named(name):
            raise StudyExists(f"{field}: a study named {name!r} is stored already")

    # -- writes ----------------------------------------------------------------------
    def record(
        self,
        kind: StudyKind,
        name: str,
        *,
        actor: str,
        inputs: Mapping[str, Any],
        result: Mapping[str, Any],
        total: int,
        started_s: int | None = None,
    ) -> Study:
        """Store a study computed elsewhere (the CLI's ``--save``), done, in one write."""
        check_name(name)
        now = to_s(self.clock.now())
        study = Study(
            self._new_id(),
            kind,
            name,
            actor,
            plain(inputs),
            StudyStatus.DONE,
            total,
            total,
            now if started_s is None else started_s,
            now,
            result=plain(result),
        )
        self.store.add_study(study)
        return study

    def start(self, kind: StudyKind, name: str, *, actor: str, inputs: Mapping[str, Any], total: int) -> Study:
        check_name(name)
        study = Study(
            self._new_id(), kind, name, actor, plain(inputs), StudyStatus.RUNNING, 0, total, to_s(self.clock.now())
        )
        self.store.add_study(study)
        return study

    def progress(self, study_id: str, done: int) -> None:
        self.store.study_progress(study_id, done)

    def finish(self, study_id: str, result: Mapping[str, Any]) -> None:
        self.store.finish_study(study_id, StudyStatus.DONE, to_s(self.clock.now()), result=plain(result))

    def fail(self, study_id: str, error: str) -> None:
        self.store.finish_study(study_id, StudyStatus.FAILED, to_s(self.clock.now()), error=error[:2000])

    # -- a keep-vs-lease study on the served fleet, in the background -----------------
    def start_keep_vs_lease(self, ask: KeepVsLeaseAsk, *, actor: str, inputs: Mapping[str, Any]) -> Study:
        """Check ``ask`` against the served fleet (a :class:`RequestError` naming each bad
        field, nothing written), store the study ``running``, and queue it on the worker."""
        run = self.prepare_keep_vs_lease(ask)
        study = self.start(StudyKind.KEEP_VS_LEASE, ask.name, actor=actor, inputs=inputs, total=len(ask.fractions))
        self.worker.submit(lambda: self._run(study.id, run))
        return study

    def prepare_keep_vs_lease(self, ask: KeepVsLeaseAsk) -> Callable[[Callable[[float], None]], dict[str, Any]]:
        """The study as a function of a progress callback, every input checked first."""
        from neocloud.placement.jobs import JobPlacement
        from neocloud.placement.snapshot import build_snapshot
        from neocloud.scheduling.policies import POLICIES
        from neocloud.services.keep_vs_lease import study
        from neocloud.services.study_documents import keep_vs_lease_document
        from neocloud.sim.keep_vs_lease import CandidateLevel, candidate_units

        self.check_free(ask.name)
        if self._fleet is None or self._costs is None:
            raise RequestError(["fleet: this server has no fleet or cost model to study"])
        problems: list[str] = []
        levels = [c.value for c in CandidateLevel]
        if ask.level not in levels:
            problems.append(f"candidates.level: {ask.level!r} is not one of {', '.join(levels)}")
        if ask.policy not in POLICIES:
            problems.append(f"policy: {ask.policy!r} is not one of {', '.join(POLICIES)}")
        if ask.placement not in {p.value for p in JobPlacement}:
            problems.append(f"placement: {ask.placement!r} is not one of {', '.join(p.value for p in JobPlacement)}")
        if ask.terms.end_s <= ask.terms.start_s:
            problems.append("lease.end: not after lease.start")
        jobs, scale = self._internal(ask, problems)
        if problems:
            raise RequestError(problems)
        fleet = self._fleet()
        snap = build_snapshot(fleet)
        try:
            units = candidate_units(snap, CandidateLevel(ask.level), ask.sites)
        except ValueError as exc:
            raise RequestError([f"{exc}"]) from exc
        if 1.0 in ask.fractions and sum(u.gpus for u in units) >= snap.total_gpus:
            raise RequestError(["fractions: 1 leases every node of the fleet; nothing is left for the internal work"])
        costs = self._costs
        priced = ask.terms.price_per_gpu_hour or _per_hour(ask.terms.monthly_fee, sum(u.gpus for u in units))

        def run(progress: Callable[[float], None]) -> dict[str, Any]:
            result = study(
                fleet,
                snap,
                lambda: jobs,
                units=units,
                fractions=ask.fractions,
                terms=ask.terms,
                costs=costs,
                policy=ask.policy,
                placement=JobPlacement(ask.placement),
                scale=scale,
                load=ask.load,
                max_delay_s=ask.max_delay_s,
                progress=progress,
            )
            return keep_vs_lease_document(result, scale=scale, load=ask.load, price=priced)

        return run

    def _internal(self, ask: KeepVsLeaseAsk, problems: list[str]) -> tuple[tuple[TraceJob, ...], float]:
        """The internal work's jobs (read once, here, so a bad trace is a 422) and the scale."""
        if ask.internal == DEMO_WORK:
            from neocloud.services.demo import internal_jobs

            return internal_jobs(), 1.0 if ask.scale is None else ask.scale
        fmt, sep, path = ask.internal.partition(":")
        if not sep or not path or self._traces is None:
            problems.append(f"internal: {ask.internal[:200]!r} is neither 'demo' nor FORMAT:PATH")
            return (), 1.0
        if ask.scale is None:
            problems.append("internal_scale: required for a trace (GPUs per job times this, for the fleet's size)")
        try:
            jobs = tuple(sorted(self._traces(fmt, Path(path)), key=lambda j: j.arrival_s))
        except (OSError, ValueError, KeyError) as exc:
            problems.append(f"internal: {ask.internal[:200]!r} cannot be read: {exc}")
            return (), 1.0
        if not jobs:
            problems.append(f"internal: {ask.internal[:200]!r} holds no job")
        return jobs, ask.scale or 1.0

    def _run(self, study_id: str, run: Callable[[Callable[[float], None]], dict[str, Any]]) -> None:
        done = 0

        def tick(_fraction: float) -> None:
            nonlocal done
            done += 1
            self.progress(study_id, done)

        try:
            document = run(tick)
        except Exception as exc:  # the study failed: recorded with its error, the server goes on
            log.exception("study %s failed", study_id)
            self.fail(study_id, f"{type(exc).__name__}: {exc}")
            return
        self.finish(study_id, document)


def _per_hour(fee: Money | None, candidate_gpus: int) -> Money:
    """A monthly fee for all the candidates as a price per GPU-hour (the average month,
    8,766 h / 12 = 730.5 h [D] economics.md §1.8, as plan keep-vs-lease shows it)."""
    assert fee is not None
    return Money((fee.amount / (candidate_gpus * Decimal("730.5"))).quantize(Decimal("0.0001")), fee.currency)


class Worker:
    """One daemon thread that runs queued studies one at a time, started on the first.

    A thread, not a process (docs/design/0009-studies.md): the study writes its progress
    through the same store as the requests (the in-memory store too), and the simulator's
    hot loops are NumPy, which leaves the interpreter to the server's requests between
    its array operations. One at a time, so that studies queue rather than share the CPUs."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="neocloud-studies", daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # a job records its own failure; this keeps the thread alive
                log.exception("a study job failed")
            finally:
                self._jobs.task_done()

    def join(self) -> None:
        """Wait until every queued study has run (tests, the demo)."""
        self._jobs.join()
