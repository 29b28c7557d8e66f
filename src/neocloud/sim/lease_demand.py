"""Lease demand through the real leasing engine: a stream of requests on a simulated clock.

Each request, at its arrival, goes the way ``lease create`` goes in the leasing
service: the engine quotes it (``Engine.quote``: validation, ``plan`` on what is free
and healthy, a price from the price book), books the quote (``Engine.book_quote``) and
the change is applied (``Engine.apply``); a request that does not place is refused
with the engine's reason. Between arrivals the engine's own clock moves leases
(``Engine.tick`` at each due time the view reports: a lease starts, and ends at its
term, and its nodes are free again). No database, no service, no wall clock: every
``now_s`` is the simulated one.

A pinned first request (:class:`Pin`: a large contract booked at t = 0, before the
stream) shows what one contract does to the requests after it; run the same stream
with and without it (:func:`replay` twice) and compare their :func:`summarize`.

Prices come from one :class:`~neocloud.economics.pricebook.PriceBook` (by default
the seeded version 1), as the leasing service's pricer does it (services/leasing.py
``_pricer``, services/pricing.py ``term``): the GPUs of each model the plan holds,
``price_term`` over the contract. A refused request's revenue is the least the book
would have charged for its shape and term (:func:`refused_price`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from neocloud.domain.demand import ANY_MODEL, DemandRequest
from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.leases import Lease, LeaseRequest, LeaseState, Segment, Tier
from neocloud.domain.ledger import Booking
from neocloud.domain.shape import Shape, Unit
from neocloud.economics.pricebook import PriceBook, price_term
from neocloud.economics.pricebook_defaults import SEED_AUTHOR, SEED_NOTE, default_cards
from neocloud.leasing.engine import Engine
from neocloud.leasing.plan import Plan
from neocloud.leasing.quote import Pricer, Quote, Refusal
from neocloud.leasing.view import LedgerView
from neocloud.placement.fragmentation import measure
from neocloud.placement.snapshot import FleetSnapshot

#: The replay's origin, 2027-01-01T00:00:00Z [D]: a fixed instant, so that the price
#: book's contract months (calendar anniversaries) and every figure repeat exactly.
ORIGIN_S = 1_798_761_600
#: Who books in the event log of a replay.
ACTOR = "demand"
#: The pinned request's id and tenant.
PIN_ID = "pin"


@dataclass(frozen=True, slots=True)
class Pin:
    """A contract booked at t = 0, before the stream: ``shape`` for ``term_s``, sold in
    ``tier`` (wholesale for whole units, reserved for a GPU count, by default)."""

    shape_text: str
    shape: Shape
    term_s: int
    tier: Tier

    def request(self) -> DemandRequest:
        return DemandRequest(PIN_ID, 0, PIN_ID, self.shape, self.shape_text, self.term_s, self.tier)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one request: booked (``lease_id``) or refused (``reason``).
    ``gpus`` and ``revenue`` are the booked lease's, or for a refusal the least the
    price book would have charged (:func:`refused_price`). ``lease`` and ``bookings``:
    the booked lease as it was booked and its nodes' bookings (for its contract,
    ``services.deals.lease_contracts``; the view retires a lease once it ends)."""

    request: DemandRequest
    accepted: bool
    reason: str
    lease_id: str | None
    model: str
    gpus: int
    revenue: Decimal
    lease: Lease | None = None
    bookings: tuple[Booking, ...] = ()


@dataclass(frozen=True, slots=True)
class Sample:
    """The fleet right after the events of ``t_s`` (s from the origin): GPUs held by
    leases, and the fragmentation of the free capacity at that instant."""

    t_s: int
    leased_gpus: int
    free_gpus: int
    stranded_fraction: float
    largest_block_free: int
    free_whole_blocks: int


@dataclass(frozen=True, slots=True)
class DemandRun:
    """A replay: every outcome in arrival order (the pin's first, when pinned), the
    samples over time, the span measured (``[0, horizon_s)``) and the fleet's GPUs."""

    outcomes: tuple[Outcome, ...]
    samples: tuple[Sample, ...]
    horizon_s: int
    fleet_gpus: int
    currency: str
    pinned: bool


def seeded_book() -> PriceBook:
    """The seeded price book (version 1, economics.md §1.8 and §6), in force from 0."""
    return PriceBook(1, 0, default_cards(), SEED_AUTHOR, SEED_NOTE, 0)


def replay(
    fleet: Fleet,
    requests: Iterable[DemandRequest],
    book: PriceBook,
    *,
    horizon_s: int | None = None,
    pin: Pin | None = None,
    progress: Callable[[int], None] | None = None,
    refuse_absent_models: bool = False,
) -> DemandRun:
    """Replay ``requests`` (in arrival order, seconds from the origin) on an empty
    ledger over ``fleet``. Requests arriving at or after ``horizon_s`` are not
    replayed; without it the span ends at the last arrival. ``progress(n)`` is told
    how many requests were handled. A request for a GPU model the fleet lacks is bad
    input (:class:`RequestError`); with ``refuse_absent_models`` (a part of a fleet, as
    keep-vs-lease offers it) it is refused, its revenue not priced (0)."""
    return _Replay(Engine.of_fleet(fleet), book, refuse_absent_models).run(requests, horizon_s, pin, progress)


@dataclass(frozen=True, slots=True)
class Group:
    """Acceptance and revenue of the requests of one shape or tier."""

    key: str
    requests: int
    accepted: int
    revenue_booked: Decimal
    revenue_refused: Decimal

    @property
    def acceptance(self) -> float:
        return self.accepted / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class DemandSummary:
    """The figures of a run: totals, per shape and per tier (the pin counted apart),
    the refusal reasons (numbers folded to ``N``) with counts, the time-weighted mean
    utilization (GPUs leased over the fleet's) and stranded share of the free GPUs,
    and both at the end of the span."""

    requests: int
    accepted: int
    revenue_booked: Decimal
    revenue_refused: Decimal
    by_shape: tuple[Group, ...]
    by_tier: tuple[Group, ...]
    reasons: tuple[tuple[str, int], ...]
    utilization_mean: float
    utilization_end: float
    stranded_mean: float
    stranded_end: float
    pin: Outcome | None

    @property
    def acceptance(self) -> float:
        return self.accepted / self.requests if self.requests else 0.0


def summarize(run: DemandRun) -> DemandSummary:
    """The figures of ``run``; the pinned request is reported on its own, not in the groups."""
    pin = run.outcomes[0] if run.pinned else None
    stream = run.outcomes[1:] if run.pinned else run.outcomes
    reasons = Counter(_folded(o.reason) for o in stream if not o.accepted)
    used = np.array([s.leased_gpus for s in run.samples], np.float64)
    stranded = np.array([s.stranded_fraction for s in run.samples], np.float64)
    last = run.samples[-1]
    return DemandSummary(
        requests=len(stream),
        accepted=sum(o.accepted for o in stream),
        revenue_booked=sum((o.revenue for o in stream if o.accepted), Decimal(0)),
        revenue_refused=sum((o.revenue for o in stream if not o.accepted), Decimal(0)),
        by_shape=_groups(stream, lambda o: o.request.shape_text),
        by_tier=_groups(stream, lambda o: o.request.tier.value),
        reasons=tuple(reasons.most_common()),
        utilization_mean=_time_mean(run, used) / run.fleet_gpus if run.fleet_gpus else 0.0,
        utilization_end=last.leased_gpus / run.fleet_gpus if run.fleet_gpus else 0.0,
        stranded_mean=_time_mean(run, stranded),
        stranded_end=last.stranded_fraction,
        pin=pin,
    )


def unit_gpus(snap: FleetSnapshot, unit: Unit, model: str) -> float:
    """The mean GPUs of ``model`` in one unit of ``unit``'s level, over the units that hold any."""
    if model not in snap.models:
        return 0.0
    of_model = snap.node_model == snap.models.index(model)
    per_unit = np.bincount(snap.unit_of(unit.level), weights=np.where(of_model, snap.node_gpus, 0))
    held = per_unit[per_unit > 0]
    return float(held.mean()) if held.size else 0.0


def request_gpus(snap: FleetSnapshot, shape: Shape, model: str | None = None) -> tuple[str, int]:
    """A shape's GPUs of ``model`` (default: the first of its models the fleet has): the
    count, or ``units`` x the mean GPUs of such a unit of that model (rounded)."""
    if model is None:
        models = _models(snap, shape)
        model = next((m for m in models if m in snap.models), models[0])
    if shape.unit is None:
        return model, shape.gpus or 0
    return model, round(shape.units * unit_gpus(snap, shape.unit, model))


def refused_price(
    book: PriceBook, snap: FleetSnapshot, request: DemandRequest, start_s: int
) -> tuple[str, int, Decimal]:
    """What the book would have charged a refused request, at the least: over the models
    its shape accepts that the fleet has, the lowest charge for its GPUs
    (:func:`request_gpus`) over its term from ``start_s``; ``(model, GPUs, amount)``."""
    best: tuple[str, int, Decimal] | None = None
    for model in (m for m in _models(snap, request.shape) if m in snap.models):
        _, gpus = request_gpus(snap, request.shape, model)
        if gpus <= 0:
            continue
        term = (Segment(start_s, start_s + request.term_s, gpus),)
        amount = price_term(book, request.tier, {model: gpus}, term).total.amount
        if best is None or amount < best[2]:
            best = (model, gpus, amount)
    return best or (request.shape.models[0], 0, Decimal(0))


# -- the replay ---------------------------------------------------------------------
class _Replay:
    """One replay's state: the engine, its pricer, GPUs held per lease, the samples."""

    def __init__(self, engine: Engine, book: PriceBook, refuse_absent_models: bool = False) -> None:
        self.engine = engine
        self.book = book
        self.refuse_absent = refuse_absent_models
        self.pricer = book_pricer(book, engine.view)
        self.held: dict[str, int] = {}
        self.leased = 0
        self.samples: list[Sample] = []

    def run(
        self,
        requests: Iterable[DemandRequest],
        horizon_s: int | None,
        pin: Pin | None,
        progress: Callable[[int], None] | None,
    ) -> DemandRun:
        self._sample(ORIGIN_S)
        outcomes: list[Outcome] = []
        last_s = 0
        if pin is not None:
            outcomes.append(self._handle(pin.request()))
        for n, request in enumerate(_until(requests, horizon_s), start=1):
            last_s = request.arrival_s
            outcomes.append(self._handle(request))
            if progress is not None:
                progress(n)
        end_s = last_s if horizon_s is None else horizon_s
        self._advance(ORIGIN_S + end_s)
        return DemandRun(
            tuple(outcomes),
            tuple(self.samples),
            end_s,
            self.engine.snap.total_gpus,
            self.book.cards.currency,
            pin is not None,
        )

    def _handle(self, demand: DemandRequest) -> Outcome:
        now_s = ORIGIN_S + demand.arrival_s
        self._advance(now_s)
        request = LeaseRequest(
            tenant=demand.tenant,
            shape=replace(demand.shape, models=_models(self.engine.snap, demand.shape)),
            start_s=now_s,
            end_s=now_s + demand.term_s,
            price_per_gpu_hour=None,
            tier=demand.tier,
        )
        absent = self._check_models(demand, request.shape)
        if absent:
            outcome = Outcome(demand, False, absent, None, request.shape.models[0], 0, Decimal(0))
            self._sample(now_s)
            return outcome
        found = self.engine.quote(request, now_s, self.pricer, with_alternatives=False)
        if isinstance(found, Refusal):
            model, gpus, revenue = refused_price(self.book, self.engine.snap, demand, now_s)
            outcome = Outcome(demand, False, found.reason, None, model, gpus, revenue)
        else:
            outcome = self._book(demand, found, now_s)
        self._sample(now_s)
        return outcome

    def _check_models(self, demand: DemandRequest, shape: Shape) -> str:
        """A model the fleet does not have is bad input, as in the leasing service; or,
        refusing absent models, the reason for a refusal ("" when every model is there)."""
        models = self.engine.snap.models
        for model in shape.models:
            if model not in models:
                have = ", ".join(models)
                reason = f"model: no {model!r} GPUs in the fleet; it has {have}"
                if not self.refuse_absent:
                    raise RequestError([f"request {demand.id}: {reason}"])
                return reason
        return ""

    def _book(self, demand: DemandRequest, found: Quote, now_s: int) -> Outcome:
        lease, change = self.engine.book_quote(found, lease_id=f"L-{demand.id}", now_s=now_s, actor=ACTOR)
        self.engine.apply(change)
        self.held[lease.id] = found.gpus
        self.leased += found.gpus
        bookings = tuple(self.engine.lease_nodes(lease.id))
        return Outcome(demand, True, "", lease.id, found.model, found.gpus, found.total.amount, lease, bookings)

    def _advance(self, t_s: int) -> None:
        """Let the engine's clock move every lease due by ``t_s``, one due time at a time."""
        view = self.engine.view
        while (due := view.next_due_s()) is not None and due <= t_s:
            change = self.engine.tick(due, ACTOR)
            self.engine.apply(change)
            ended = [lease.id for lease in change.leases if lease.state is LeaseState.ENDED]
            for lease_id in ended:
                self.leased -= self.held.pop(lease_id)
            if ended:  # a start changes neither the bookings nor the GPUs leased: nothing to measure
                view.retire(due)
                self._sample(due)

    def _sample(self, t_s: int) -> None:
        view = self.engine.view
        frag = measure(view.snap, view.ledger.unavailable(t_s, t_s + 1), view.healthy())
        sample = Sample(
            t_s - ORIGIN_S,
            self.leased,
            frag.free_gpus,
            frag.stranded_fraction,
            frag.largest_block_free,
            frag.free_whole_blocks,
        )
        if self.samples and self.samples[-1].t_s == sample.t_s:
            self.samples[-1] = sample  # the state after every event of one instant
        else:
            self.samples.append(sample)


def book_pricer(book: PriceBook, view: LedgerView) -> Pricer:
    """Prices a plan from ``book`` as the leasing service does: the GPUs of each model
    the plan's nodes hold, the book's price for the request's tier over its contract,
    recorded on the request with the book's version."""
    snap, index = view.snap, view.ledger.node_index

    def price(p: Plan) -> Quote:
        gpus: dict[str, int] = {}
        for node in dict.fromkeys(p.nodes):
            i = index[node]
            model = snap.models[int(snap.node_model[i])]
            gpus[model] = gpus.get(model, 0) + int(snap.node_gpus[i])
        priced = price_term(book, p.request.tier, gpus, p.contract)
        request = replace(p.request, price_per_gpu_hour=priced.rate, price_version=book.version)
        return Quote.priced(p, request, priced.total)

    return price


def _models(snap: FleetSnapshot, shape: Shape) -> tuple[str, ...]:
    """Any model (``*``) spelled out as the fleet's models, as the leasing service does."""
    return tuple(snap.models) if shape.models == (ANY_MODEL,) else shape.models


def _until(requests: Iterable[DemandRequest], horizon_s: int | None) -> Iterator[DemandRequest]:
    for r in requests:
        if horizon_s is not None and r.arrival_s >= horizon_s:
            return
        yield r


def _groups(outcomes: Sequence[Outcome], key: Callable[[Outcome], str]) -> tuple[Group, ...]:
    keys = list(dict.fromkeys(key(o) for o in outcomes))
    out = []
    for k in keys:
        mine = [o for o in outcomes if key(o) == k]
        out.append(
            Group(
                k,
                len(mine),
                sum(o.accepted for o in mine),
                sum((o.revenue for o in mine if o.accepted), Decimal(0)),
                sum((o.revenue for o in mine if not o.accepted), Decimal(0)),
            )
        )
    return tuple(out)


def _time_mean(run: DemandRun, values: np.ndarray) -> float:
    """The mean over ``[0, horizon_s)`` of the step function the samples make."""
    t = np.array([s.t_s for s in run.samples], np.float64)
    if run.horizon_s <= 0:
        return float(values[-1])
    ends = np.append(t[1:], run.horizon_s)
    spans = np.clip(np.minimum(ends, run.horizon_s) - np.minimum(t, run.horizon_s), 0, None)
    return float((values * spans).sum() / run.horizon_s)


def _folded(reason: str) -> str:
    """A refusal reason with its numbers as ``N``, so that alike refusals count together."""
    return re.sub(r"(?<![A-Za-z\d])\d[\d,]*", "N", reason)
