"""Leasing use cases: one short write transaction per decision, through the store port.

Each write: take the store's write lock, catch the cached engine up with what other
writers committed (rows newer than its version), let the clock's due changes happen
(expired holds, starts, ends), decide with the pure engine, write the change, commit,
and apply it to the cache. If anything fails the cache is dropped and rebuilt from
the store on the next call, so it can never run ahead of the database.

A write sent with an ``Idempotency-Key`` carries a :class:`Claim`: under the lock,
before deciding, a key already used replays its kept result (nothing is written);
otherwise the result is kept in the same transaction as the change.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from neocloud.domain.changes import Change, Delta, Event, EventQuery, StoredEvent
from neocloud.domain.clock import Clock, to_s
from neocloud.domain.errors import DomainError, RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import (
    DEFAULT_BACKDATE_S,
    Health,
    OutOfOrderHealth,
    health_time_problems,
    report_order_problem,
)
from neocloud.domain.leases import DEFAULT_TERMS, Lease, LeaseRequest, LeaseState, Terms, horizon_problems
from neocloud.domain.ledger import Booking, HolderKind, Ledger
from neocloud.domain.names import reason_problems, tenant_name_problems
from neocloud.domain.shape import Shape
from neocloud.economics.pricebook import Margin
from neocloud.leasing.availability import ModelAvailability, availability
from neocloud.leasing.delivered import CapacityPoint, delivered_series
from neocloud.leasing.engine import Engine
from neocloud.leasing.plan import Plan
from neocloud.leasing.quote import Pricer, Quote, Refusal, Unplaceable
from neocloud.leasing.view import LedgerView
from neocloud.placement.snapshot import HEALTH_CODES, FleetSnapshot, build_snapshot, health_codes
from neocloud.services.idempotency import Claim
from neocloud.services.lease_blocks import BlockShare, block_shares, summary_instant
from neocloud.services.ports import LedgerStore, Writer
from neocloud.services.pricing import PricingService
from neocloud.services.visibility import FOREVER_S, OPERATOR, Viewer

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def serialized(method: F) -> F:
    """Run under the service's lock: the cached engine is shared by the threads of a
    server, and numpy views of it must not change under a reader."""

    @functools.wraps(method)
    def wrapper(self: LeasingService, *args: Any, **kwargs: Any) -> Any:
        with self._mutex:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


DEFAULT_HOLD_S = 15 * 60
MAX_SEQ = 2**63 - 1  # event sequence numbers are 64-bit signed in every store
AVAILABILITY_CACHE = 64  # answers kept per ledger version (a write changes the version)


def new_lease_id() -> str:
    return f"L-{uuid.uuid4().hex[:12]}"


def new_window_id() -> str:
    return f"MW-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class LeaseView:
    """A lease with its nodes, what they are per block at ``blocks_at_s`` (now, within
    the term), and its contracted vs delivered capacity."""

    lease: Lease
    bookings: list[Booking]
    capacity: list[CapacityPoint]
    blocks: list[BlockShare] = field(default_factory=list)
    blocks_at_s: int = 0


class LeasingService:
    def __init__(
        self,
        store: LedgerStore,
        clock: Clock,
        *,
        new_id: Callable[[], str] = new_lease_id,
        hold_s: int = DEFAULT_HOLD_S,
        read_staleness_s: float = 0.0,
        terms: Terms = DEFAULT_TERMS,
        health_backdate_s: int = DEFAULT_BACKDATE_S,
        pricing: PricingService | None = None,
    ) -> None:
        """``terms``: the operator's SLA for requests that set none; ``health_backdate_s``:
        how far back a health change may be dated; ``pricing``: the price book that
        prices a request without an explicit price (without it, every request sets one)."""
        self.store = store
        self.pricing = pricing
        self.clock = clock
        self.new_id = new_id
        self.hold_s = hold_s
        self.terms = terms
        self.health_backdate_s = health_backdate_s
        self._engine: Engine | None = None
        self._version = -1
        self._tenants: set[str] = set()
        self._dirty = False
        self._mutex = threading.RLock()
        self.read_staleness_s = read_staleness_s
        self._checked_at = -1e18
        self._availability: dict[tuple[object, ...], list[ModelAvailability]] = {}
        self._fleet: Fleet | None = None
        self._due_key: tuple[tuple[str, str], ...] = ()  # what a read applied tentatively

    # -- setup ----------------------------------------------------------------
    @serialized
    def init(self, fleet: Fleet, actor: str) -> None:
        """Create or upgrade the schema and load ``fleet`` into it."""
        self.store.create_schema()
        self.store.load_fleet(fleet, self._now(), actor)
        if self.pricing is not None:
            self.pricing.seed(actor)  # version 1: the seeded defaults, effective now
        self._engine = None

    @serialized
    def add_tenant(self, name: str, actor: str) -> None:
        """Add a tenant named by the rule of :mod:`neocloud.domain.names` (unique
        regardless of case among the stored tenants, checked under the write lock)."""
        with self._locked() as (writer, _):
            _refuse(tenant_name_problems(name, self._tenants))
            now_s = self._now()
            self._dirty = True  # the cache takes the tenant before the commit: drop it if that fails
            writer.add_tenant(name, now_s, actor)
            writer.write(Change(events=(Event("tenant.added", name, now_s, actor, tenant=name),)))
            self._version = writer.version
            self._tenants.add(name)

    @serialized
    def fleet(self) -> Fleet:
        """The fleet with each node's current health. The topology is read from the
        store once and cached (it does not change after init); health is refreshed
        from the cached engine. Callers must not modify it."""
        engine = self._read()
        if self._fleet is None:
            self._fleet = self.store.fleet()
        codes = engine.view.health.tolist()
        index = engine.view.ledger.node_index
        for node in self._fleet.nodes:
            node.health = HEALTH_CODES[codes[index[node.id]]]
        return self._fleet

    @serialized
    def free_node(self, model: str, start_s: int, end_s: int) -> str | None:
        """A healthy node of ``model`` that nothing holds over ``[start_s, end_s)``."""
        view = self._read().view
        if model not in view.snap.models:
            return None
        ok = view.eligible(start_s, end_s) & (view.snap.node_model == view.snap.models.index(model))
        found = np.flatnonzero(ok)
        return view.snap.node_ids[int(found[0])] if found.size else None

    @serialized
    def read_token(self) -> tuple[int, tuple[tuple[str, str], ...]]:
        """What every read answers from, as of now: the store version this process has
        caught up to and the leases the clock has moved since (applied tentatively). Two
        reads with the same token see the same state, so an edge may reuse an answer it
        rendered for the token (the API's read cache)."""
        with self._as_of_now():
            return self._version, self._due_key

    @serialized
    def tenants(self) -> set[str]:
        self._read()
        return set(self._tenants)

    # -- leases ---------------------------------------------------------------
    @serialized
    def quote(self, request: LeaseRequest) -> Quote | Refusal:
        with self._as_of_now() as (engine, now_s):
            request = _all_models(engine, request)
            self._check_request(engine, request)
            return engine.quote(request, now_s, self._pricer(engine, now_s))

    @serialized
    def quote_margin(self, quote: Quote) -> Margin | None:
        """The operator's margin over TCO of a quote (or a booked lease's quote), or
        ``None`` where no cost model or no TCO for its site and model is known."""
        if self.pricing is None:
            return None
        gpus, sites = _models_of(self._read().view, quote.nodes)
        priced = self.pricing.repriced(quote.request, gpus, quote.contract)
        return self.pricing.margin(priced, sites)

    @serialized
    def create(
        self,
        request: LeaseRequest,
        *,
        actor: str,
        hold: bool = False,
        hold_s: int | None = None,
        claim: Claim[tuple[Lease, Quote]] | None = None,
    ) -> tuple[Lease, Quote]:
        """Book a request: confirmed at once, or held when ``hold`` for ``hold_s`` seconds
        (default: the service's hold time). Every write method takes an optional
        ``claim`` (an ``Idempotency-Key``), settled in its transaction."""
        lease_id = self.new_id()

        def decide(engine: Engine, now_s: int) -> tuple[tuple[Lease, Quote], Change]:
            full = _all_models(engine, request)
            self._check_request(engine, full)
            quote = engine.quote(full, now_s, self._pricer(engine, now_s))
            if isinstance(quote, Refusal):
                raise Unplaceable(quote)
            lease, change = engine.book_quote(
                quote, lease_id=lease_id, now_s=now_s, actor=actor, hold_s=(hold_s or self.hold_s) if hold else None
            )
            return (lease, quote), change

        return self._write(decide, claim)

    @serialized
    def confirm(
        self, lease_id: str, *, actor: str, viewer: Viewer = OPERATOR, claim: Claim[Lease] | None = None
    ) -> Lease:
        return self._lease_op(lease_id, viewer, lambda e, now: e.confirm(lease_id, now_s=now, actor=actor), claim)

    @serialized
    def cancel(
        self, lease_id: str, *, actor: str, viewer: Viewer = OPERATOR, claim: Claim[Lease] | None = None
    ) -> Lease:
        return self._lease_op(lease_id, viewer, lambda e, now: e.cancel(lease_id, now_s=now, actor=actor), claim)

    @serialized
    def terminate(
        self,
        lease_id: str,
        at_s: int | None,
        *,
        actor: str,
        viewer: Viewer = OPERATOR,
        claim: Claim[Lease] | None = None,
    ) -> Lease:
        return self._lease_op(
            lease_id,
            viewer,
            lambda e, now: e.terminate(lease_id, at_s=now if at_s is None else at_s, now_s=now, actor=actor),
            claim,
        )

    @serialized
    def extend(
        self,
        lease_id: str,
        new_end_s: int,
        *,
        actor: str,
        allow_swap: bool = False,
        viewer: Viewer = OPERATOR,
        claim: Claim[Lease] | None = None,
    ) -> Lease:
        def op(e: Engine, now: int) -> Change:
            _refuse(horizon_problems("end", new_end_s, now))
            return e.extend(lease_id, new_end_s, now_s=now, actor=actor, allow_swap=allow_swap)

        return self._lease_op(lease_id, viewer, op, claim)

    @serialized
    def shrink(
        self,
        lease_id: str,
        gpus: int,
        from_s: int | None,
        *,
        actor: str,
        viewer: Viewer = OPERATOR,
        claim: Claim[Lease] | None = None,
    ) -> Lease:
        return self._lease_op(
            lease_id, viewer, lambda e, now: e.shrink(lease_id, gpus, from_s=from_s, now_s=now, actor=actor), claim
        )

    @serialized
    def announce_maintenance(
        self,
        lease_id: str,
        start_s: int,
        end_s: int,
        *,
        actor: str,
        reason: str,
        claim: Claim[Lease] | None = None,
    ) -> Lease:
        """Announce a maintenance window on a lease (the operator's; see
        :func:`~neocloud.leasing.healing.announce_maintenance`): at least the contract's
        ``maintenance_notice_s`` ahead, within its term; the SLA leaves it out."""
        _refuse(reason_problems(reason))
        if not reason.strip():
            raise RequestError(["reason: say why (the tenant reads it)"])

        def op(e: Engine, now: int) -> Change:
            return e.announce_maintenance(lease_id, start_s=start_s, end_s=end_s, now_s=now, actor=actor, reason=reason)

        return self._lease_op(lease_id, OPERATOR, op, claim)

    @serialized
    def leases(
        self, *, tenant: str | None = None, state: LeaseState | None = None, viewer: Viewer = OPERATOR
    ) -> list[Lease]:
        """Leases as of now (a hold past its expiry is expired, a start reached is active),
        in creation order, of ``tenant`` if given (a tenant viewer: only its own)."""
        tenant = viewer.scope(tenant)
        with self._as_of_now() as (engine, _):
            out = [
                lease
                for lease in engine.view.leases.values()
                if (tenant is None or lease.tenant == tenant) and (state is None or lease.state is state)
            ]
        return sorted(out, key=lambda lease: (lease.created_s, lease.id))

    @serialized
    def show(self, lease_id: str, *, viewer: Viewer = OPERATOR) -> LeaseView:
        with self._as_of_now() as (engine, now_s):
            lease = viewer.lease(engine.lease(lease_id))
            bookings = engine.lease_nodes(lease_id)
            gpus = {b.node: engine.view.node_gpus(b.node) for b in bookings}
            at_s = summary_instant(lease.start_s, lease.end_s, now_s)
            view = engine.view
            blocks = block_shares(view.snap, view.ledger.node_index, view.health, bookings, at_s)
        log = list(self.store.health_log(sorted(gpus)))
        # through the instant now: a change recorded now (a failure) shows at once
        capacity = delivered_series(lease, bookings, gpus, log, until_s=max(now_s, lease.start_s) + 1)
        return LeaseView(lease, bookings, capacity, blocks, at_s)

    @serialized
    def lease_bookings(self, lease_id: str, *, viewer: Viewer = OPERATOR) -> list[Booking]:
        """The bookings of one lease (its nodes and spares over its whole term); another
        tenant's lease is :class:`NotFound`, as in :meth:`show`."""
        with self._as_of_now() as (engine, _):
            viewer.lease(engine.lease(lease_id))
            return engine.lease_nodes(lease_id)

    @serialized
    def bookings(self, start_s: int, end_s: int) -> list[Booking]:
        """Every holder's bookings (leases, spares, pools, maintenance) overlapping ``[start_s, end_s)``."""
        with self._as_of_now() as (engine, _):
            return engine.view.ledger.in_window(start_s, end_s)

    @serialized
    def bookings_of(self, holders: Iterable[str]) -> list[Booking]:
        """The bookings of these holders (lease ids), as they are now."""
        with self._as_of_now() as (engine, _):
            return [b for holder in holders for b in engine.lease_nodes(holder)]

    @serialized
    def pool_capacity(self, pool: str, at_s: int) -> tuple[FleetSnapshot, list[int]]:
        """The fleet's snapshot and, per node (fleet order), the GPUs internal pool
        ``pool`` has at ``at_s``: all of a healthy node the ledger books to the pool
        then (``HolderKind.POOL``), none otherwise (a live job queue's capacity)."""
        with self._as_of_now() as (engine, _):
            view = engine.view
            healthy = view.healthy()
            offered = [0] * len(view.snap.node_ids)
            for b in view.ledger.in_window(at_s, at_s + 1):
                if b.kind is HolderKind.POOL and b.holder == pool:
                    k = view.node(b.node)
                    offered[k] = int(view.snap.node_gpus[k]) if healthy[k] else 0
            return view.snap, offered

    @serialized
    def node_bookings(self, node: str) -> list[Booking]:
        """Every booking of one node, in time order."""
        with self._as_of_now() as (engine, _):
            view = engine.view
            view.node(node)  # NotFound for a node the fleet does not have
            return view.ledger.overlapping(node, -FOREVER_S, FOREVER_S)

    # -- capacity ----------------------------------------------------------------
    @serialized
    def availability(
        self, start_s: int, end_s: int, *, models: tuple[str, ...] | None = None, site: str | None = None
    ) -> list[ModelAvailability]:
        if start_s >= end_s:
            raise RequestError(["start: must be before end"])
        with self._as_of_now() as (engine, _):
            view = engine.view
            if site is not None and site not in view.snap.site_names:
                raise RequestError([f"site: unknown site {site!r}; known: {', '.join(view.snap.site_names)}"])
            for model in models or ():
                if model not in view.snap.models:
                    raise RequestError([f"model: unknown GPU model {model!r}; known: {', '.join(view.snap.models)}"])
            key = (self._version, self._due_key, start_s, end_s, models, site)
            found = self._availability.get(key)
            if found is None:
                if len(self._availability) >= AVAILABILITY_CACHE:
                    self._availability.clear()
                found = availability(view.snap, view.ledger, view.health, start_s, end_s, models=models, site=site)
                self._availability[key] = found
            return found

    @serialized
    def set_health(
        self,
        node: str,
        state: Health,
        *,
        at_s: int | None,
        actor: str,
        reason: str,
        claim: Claim[Change] | None = None,
    ) -> Change:
        """Record a health change at ``at_s`` (default now): never in the future, at
        most ``health_backdate_s`` ago (else :class:`RequestError`), never before the
        node's latest health record nor before the fleet was loaded (else
        :class:`OutOfOrderHealth`, naming the later record). A late report stands in
        the health log from ``at_s``; the healing it causes happens now."""
        _refuse(reason_problems(reason))

        def in_order(writer: Writer, now_s: int) -> None:
            at = now_s if at_s is None else at_s
            _refuse(health_time_problems(at, now_s, self.health_backdate_s))
            problem = report_order_problem(node, at, writer.last_health(node), writer.fleet_loaded_s)
            if problem is not None:
                raise OutOfOrderHealth(problem)

        def decide(engine: Engine, now_s: int) -> tuple[Change, Change]:
            at = now_s if at_s is None else at_s
            change = engine.set_health(node, state, at_s=at, now_s=now_s, actor=actor, reason=reason)
            return change, change

        return self._write(decide, claim, guard=in_order)

    @serialized
    def maintenance(
        self, node: str, start_s: int, end_s: int, *, actor: str, claim: Claim[Change] | None = None
    ) -> Change:
        window_id = new_window_id()

        def decide(engine: Engine, now_s: int) -> tuple[Change, Change]:
            _refuse(horizon_problems("end", end_s, now_s))
            change = engine.maintenance(
                node, start_s=start_s, end_s=end_s, now_s=now_s, actor=actor, window_id=window_id
            )
            return change, change

        return self._write(decide, claim)

    @serialized
    def assign_pool(self, pool: str, shape: Shape, start_s: int | None, end_s: int, *, actor: str) -> Change:
        """Hold capacity for an internal pool over a window (``start_s`` ``None``: from now)."""

        def decide(engine: Engine, now_s: int) -> tuple[Change, Change]:
            begin = now_s if start_s is None else start_s
            change = engine.assign_pool(pool, shape, start_s=begin, end_s=end_s, now_s=now_s, actor=actor)
            return change, change

        return self._write(decide)

    def events(self, query: EventQuery) -> list[StoredEvent]:
        if query.after_seq >= MAX_SEQ:
            return []  # nothing follows the largest sequence number a store holds (and SQLite cannot bind more)
        return self.store.events(query)

    @serialized
    def tick(self, actor: str = "clock") -> Change:
        """Apply what the clock made due (expired holds, starts, ends)."""
        return self._write(lambda engine, now: (Change(), Change()))

    # -- internals -----------------------------------------------------------------
    def _now(self) -> int:
        return to_s(self.clock.now())

    def _pricer(self, engine: Engine, now_s: int) -> Pricer | None:
        """Prices a plan from the book in force now (or at its explicit price, recorded
        as an override); ``None`` without a price book: the request's own price."""
        pricing = self.pricing
        if pricing is None:
            return None

        def price(p: Plan) -> Quote:
            gpus, _ = _models_of(engine.view, p.nodes)
            term = pricing.term(p.request, gpus, p.contract, now_s)
            return Quote.priced(p, term.request, term.priced.total)

        return price

    def _check_request(self, engine: Engine, request: LeaseRequest) -> None:
        problems = []
        if request.tenant not in self._tenants:
            known = ", ".join(sorted(self._tenants)) or "none yet (neocloud tenant add NAME)"
            problems.append(f"tenant: unknown tenant {request.tenant!r}; known: {known}")
        for model in request.shape.models:
            if model not in engine.snap.models:
                problems.append(f"model: no {model!r} GPUs in the fleet; it has {', '.join(engine.snap.models)}")
        site = request.shape.site
        if site is not None and site not in engine.snap.site_names:
            problems.append(f"site: unknown site {site!r}; known: {', '.join(engine.snap.site_names)}")
        wanted = request.shape.gpus or 0
        in_fleet = engine.snap.gpus_by_model()
        have = sum(in_fleet.get(m, 0) for m in request.shape.models)
        if request.shape.unit is None and wanted > have > 0:
            problems.append(f"gpus: {wanted:,} requested; the fleet has {have:,} of {'/'.join(request.shape.models)}")
        if problems:
            raise RequestError(problems)

    def _lease_op(
        self, lease_id: str, viewer: Viewer, op: Callable[[Engine, int], Change], claim: Claim[Lease] | None
    ) -> Lease:
        """Change one lease the viewer may see; a refusal is told as the viewer may read it."""

        def decide(engine: Engine, now_s: int) -> tuple[Lease, Change]:
            viewer.lease(engine.lease(lease_id))
            change = op(engine, now_s)
            return next(lease for lease in change.leases if lease.id == lease_id), change

        try:
            return self._write(decide, claim)
        except DomainError as e:
            shown = viewer.shown(e)
            if shown is e:
                raise
            raise shown from None

    def _write(
        self,
        decide: Callable[[Engine, int], tuple[T, Change]],
        claim: Claim[T] | None = None,
        *,
        guard: Callable[[Writer, int], None] | None = None,
    ) -> T:
        """One transaction: the clock's due changes, the decision, and the claim's result
        if there is a claim (a replay raises :class:`Replayed` before anything is written).
        ``guard`` checks what only the store knows (read under the lock) before deciding."""
        with self._locked() as (writer, engine):
            if claim is not None:
                claim.check(writer)
            now_s = self._now()
            due = engine.tick(now_s)
            undo_due = None
            if not due.empty:  # the clock's changes go first, in this same transaction
                writer.write(due)
                undo_due = engine.simulate(due)  # a tick only releases and moves leases: ids are the store's
            try:
                if guard is not None:
                    guard(writer, now_s)
                result, change = decide(engine, now_s)
            except BaseException:  # refused: the transaction rolls back, and so does the view
                if undo_due is not None:
                    undo_due()
                raise
            self._dirty = undo_due is not None
            if not change.empty:
                self._dirty = True
                engine.apply(change, writer.write(change))
            if claim is not None:
                claim.keep(writer, result, now_s)
            self._version = writer.version
            engine.view.retire(now_s)
            return result

    @contextmanager
    def _as_of_now(self) -> Iterator[tuple[Engine, int]]:
        """The cached view as of now, for a read: what the clock made due (expired
        holds, starts, ends) is applied tentatively and taken back afterwards, so a
        read never waits for a write to see the present and never writes."""
        engine = self._read()
        now_s = self._now()
        due = engine.tick(now_s)
        if due.empty:
            self._due_key = ()
            yield engine, now_s
            return
        self._due_key = tuple(sorted((lease.id, lease.state.value) for lease in due.leases))
        undo = engine.simulate(due)
        try:
            yield engine, now_s
        finally:
            undo()

    @contextmanager
    def _locked(self) -> Iterator[tuple[Writer, Engine]]:
        """The store's write lock and the engine caught up under it. If the transaction
        fails after the engine took in part of it, the engine is dropped (rebuilt from
        the store next time) so that it never runs ahead of the database."""
        engine = self._ensure()
        self._dirty = False
        try:
            with self.store.writing() as writer:
                self._catch_up(writer, engine)
                yield writer, engine
        except BaseException:
            if self._dirty:
                self._engine = None
                self._version = -1
            raise

    def _read(self) -> Engine:
        """The cached engine, caught up with what the store committed (no write lock).

        This process's own writes reach the cache at once; what other processes
        commit is picked up at most ``read_staleness_s`` later (one cheap version read
        per interval instead of one per request)."""
        engine = self._ensure()
        now = time.monotonic()
        if now - self._checked_at >= self.read_staleness_s:
            self._absorb(engine, self.store.delta_since(self._version))
            self._checked_at = now
        return engine

    def _ensure(self) -> Engine:
        if self._engine is None:
            fleet = self.store.fleet()
            snap = build_snapshot(fleet)
            self._engine = Engine(LedgerView(snap, Ledger(snap.node_ids), health_codes(fleet, snap)))
            self._version = -1
            self._tenants = set()
            self._absorb(self._engine, self.store.delta_since(-1))
        return self._engine

    def _catch_up(self, writer: Writer, engine: Engine) -> None:
        if writer.version != self._version:
            self._absorb(engine, writer.delta_since(self._version))

    def _absorb(self, engine: Engine, delta: Delta) -> None:
        if delta.version == self._version:
            return
        engine.absorb(delta.bookings, delta.leases, delta.health)
        self._tenants |= delta.tenants
        self._version = delta.version


def _refuse(problems: list[str]) -> None:
    if problems:
        raise RequestError(problems)


def _models_of(view: LedgerView, nodes: Iterable[str]) -> tuple[dict[str, int], dict[str, str]]:
    """GPUs per model among ``nodes`` and, per model, the site of its first node."""
    snap, lookup = view.snap, view.ledger.node_index
    gpus: dict[str, int] = {}
    sites: dict[str, str] = {}
    for node in dict.fromkeys(nodes):
        i = lookup[node]
        model = snap.models[int(snap.node_model[i])]
        gpus[model] = gpus.get(model, 0) + int(snap.node_gpus[i])
        sites.setdefault(model, snap.site_names[int(snap.node_site[i])])
    return gpus, sites


def _all_models(engine: Engine, request: LeaseRequest) -> LeaseRequest:
    """``models=("*",)`` (a whole-site lease of every model) spelled out as the fleet's models."""
    if request.shape.models != ("*",):
        return request
    return replace(request, shape=replace(request.shape, models=tuple(engine.snap.models)))
