"""Leases: the request, the record, and the lifecycle as a transition table.

Lifecycle: quoted -> held (expires) -> confirmed -> active -> ended, with
cancellation before the start, early termination after it, and expiry of holds.
Extend and shrink change a lease's terms, not its state. One function,
:func:`change_state`, validates an edge, stamps the time and appends history.

Amendments: every change of what a lease delivers after it was booked (extend,
shrink, terminate, a node swap, an announced maintenance window) appends one typed
:class:`Amendment` to ``Lease.amendments``, carrying the whole contract before and
after. The contract a lease was booked with (its steps included) is not an
amendment. Invariant: :func:`replay_contract` over the booked contract and the
amendments, in order, gives ``Lease.contract``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from neocloud.domain.clock import from_s
from neocloud.domain.credits import DEFAULT_CAP_SHARE, CreditTier, credit_problems, default_credit_tiers
from neocloud.domain.errors import DomainError
from neocloud.domain.money import Money, price_problems
from neocloud.domain.shape import Level, Locality, Shape, Unit


class LeaseState(StrEnum):
    QUOTED = "quoted"
    HELD = "held"
    CONFIRMED = "confirmed"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    TERMINATED = "terminated"


S = LeaseState

#: Legal lease transitions and why each exists.
TRANSITIONS: dict[tuple[LeaseState, LeaseState], str] = {
    (S.QUOTED, S.HELD): "the tenant reserves the quoted capacity while deciding",
    (S.QUOTED, S.CONFIRMED): "booked firm at once, without a hold",
    (S.HELD, S.CONFIRMED): "the tenant commits before the hold expires",
    (S.HELD, S.EXPIRED): "the hold timed out: its nodes go back to free",
    (S.HELD, S.CANCELLED): "the tenant lets the hold go",
    (S.CONFIRMED, S.ACTIVE): "the start time is reached",
    (S.CONFIRMED, S.CANCELLED): "called off before it started: nodes released",
    (S.ACTIVE, S.ENDED): "the end time is reached",
    (S.ACTIVE, S.TERMINATED): "ended early by agreement: nodes released from then on",
}


class Tier(StrEnum):
    """How a lease is sold (the price book has a rate card per tier and GPU model)."""

    WHOLESALE = "wholesale"  # take-or-pay: a monthly fee for whole units, with ramp discounts
    RESERVED = "reserved"  # a committed term: the longer, the larger the discount
    ON_DEMAND = "on_demand"  # a rate per GPU-hour, no commitment
    SPOT = "spot"  # a discount off on-demand; evicted on notice


LIVE_STATES = frozenset({S.HELD, S.CONFIRMED, S.ACTIVE})
FINAL_STATES = frozenset({S.ENDED, S.CANCELLED, S.EXPIRED, S.TERMINATED})


class LeaseRuleError(DomainError):
    """A lease operation that its rules do not allow; the message says why."""


SPARE_LEVELS = (Level.NVLINK_DOMAIN, Level.BLOCK)


class HeldByOthers(LeaseRuleError):
    """An extension refused because other holders book some of the lease's nodes after its end.

    Structured so that each viewer is told what it may know: ``blocked`` of the lease's
    nodes are booked from ``from_s`` on; ``holders`` (``"lease L-..."``, ``"pool x"``) and
    ``swaps`` (``(node, free node that could take over)``) are the operator's to see,
    and are empty in the copy a tenant gets (:meth:`for_tenant`). The message is made
    from the fields.
    """

    def __init__(  # noqa: PLR0917 - the fields of one refusal
        self,
        lease_id: str,
        end_s: int,
        blocked: int,
        from_s: int,
        holders: tuple[str, ...] = (),
        swaps: tuple[tuple[str, str], ...] = (),
        swappable: bool = False,
    ) -> None:
        self.lease_id = lease_id
        self.end_s = end_s
        self.blocked = blocked
        self.from_s = from_s
        self.holders = holders
        self.swaps = swaps
        self.swappable = swappable or bool(swaps)
        super().__init__(self._text())

    def for_tenant(self) -> HeldByOthers:
        """The same refusal without who holds the nodes or which free nodes could take over."""
        return HeldByOthers(self.lease_id, self.end_s, self.blocked, self.from_s, swappable=self.swappable)

    def _text(self) -> str:
        head = f"extend {self.lease_id} to {_when(self.end_s)}: "
        if not self.holders:
            text = head + f"{self.blocked} of your nodes are booked after {_when(self.from_s)}"
            if self.swappable:
                text += f"; free nodes in the same blocks could take over {self.blocked} of them from then"
        else:
            text = head + (
                f"{self.blocked} of the lease's nodes are booked after {_when(self.from_s)} "
                f"(held by {', '.join(self.holders)})"
            )
            if self.swaps:
                moves = ", ".join(f"{a}->{b}" for a, b in self.swaps)
                text += f"; free nodes in the same blocks could take over from {_when(self.from_s)}: {moves}"
        return text + (". Ask again allowing the swap" if self.swappable else "")


def _when(t_s: int) -> str:
    """``2027-05-30`` at midnight UTC, else ``2027-05-30 13:45 UTC``."""
    dt = from_s(t_s)
    midnight = (dt.hour, dt.minute, dt.second) == (0, 0, 0)
    return dt.strftime("%Y-%m-%d") if midnight else dt.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class SparePolicy:
    """``count`` spare nodes held aside per ``per`` unit (an NVLink domain or a block)."""

    per: Level
    count: int


@dataclass(frozen=True, slots=True)
class Step:
    """From ``at_s`` on, the lease holds ``gpus`` GPUs."""

    at_s: int
    gpus: int


#: How far ahead a lease may start or end: ten years (3,652 days, leap days included).
MAX_HORIZON_S = 3_652 * 86_400
#: GPUs in one request: ten times the million-GPU fleet the design aims at.
MAX_GPUS = 10_000_000
#: Whole units in one request: more than any fleet has nodes.
MAX_UNITS = 1_000_000
#: Steps of a ramp: one a week for ten years.
MAX_STEPS = 520
#: Spare nodes per block or NVLink domain: a block has a few hundred nodes at most.
MAX_SPARES = 1_000
#: Decimal places of an SLA availability target: 99.999 (five nines).
SLA_PLACES = 3
#: Notice an operator gives before a maintenance window on a lease, unless the contract
#: says otherwise: 7 days. Our own default [D] (2026-12-01): economics.md §5.4 lists the
#: SLA terms of nine GPU clouds [R97]-[R101] and none names a maintenance notice; a week
#: lets a tenant checkpoint and drain its jobs around a weekend.
MAINTENANCE_NOTICE_S = 7 * 86_400
#: The longest maintenance notice a contract may ask: a year (our own bound [D]: a
#: longer notice could never be given within the one-year terms most leases run).
MAX_MAINTENANCE_NOTICE_S = 365 * 86_400
#: The default list price: the H100 one-year contract price of March 2026
#: (economics.md, ``market_price_h100_1yr_contract``).
LIST_PRICE = Money(Decimal("2.35"), "USD")


@dataclass(frozen=True, slots=True)
class Terms:
    """The operator's contract terms for a lease that does not set its own: the list
    price per GPU-hour and the availability target. Tenants always get these; only
    the operator may set others. Defaults: :data:`LIST_PRICE` and the 99% of
    single-region GPU-cloud SLAs (economics.md, ``sla_uptime``)."""

    price_per_gpu_hour: Money = LIST_PRICE
    sla_availability_pct: Decimal = Decimal("99.0")


DEFAULT_TERMS = Terms()


@dataclass(frozen=True, slots=True)
class LeaseRequest:
    """What a tenant asks for. Times are seconds since the epoch, UTC, half-open.

    ``price_per_gpu_hour`` ``None`` asks for the price book's price for ``tier`` (the
    service fills it in with ``price_version``, the version it came from); a price
    given with ``price_version`` ``None`` is the operator's explicit override.
    ``maintenance_notice_s``: how long before an announced maintenance window starts
    the operator must announce it (default :data:`MAINTENANCE_NOTICE_S`).
    ``sla_credit_tiers``: the SLA credit tiers, highest threshold first
    (:mod:`neocloud.domain.credits`); none stated (``()``) is signed with the defaults
    for the target when the lease is booked (:func:`with_credit_terms`), so a booked
    lease records the tiers it was signed with. ``sla_credit_cap``: the share of the
    period's charge no credit exceeds (default 100% [R101])."""

    tenant: str
    shape: Shape
    start_s: int
    end_s: int
    price_per_gpu_hour: Money | None
    sla_availability_pct: Decimal = Decimal("99.0")
    steps: tuple[Step, ...] = ()
    spares: SparePolicy | None = None
    tier: Tier = Tier.RESERVED
    price_version: int | None = None
    maintenance_notice_s: int = MAINTENANCE_NOTICE_S
    sla_credit_tiers: tuple[CreditTier, ...] = ()
    sla_credit_cap: Decimal = DEFAULT_CAP_SHARE

    @property
    def price_override(self) -> bool:
        """True when the price was set explicitly, not taken from a price-book version."""
        return self.price_per_gpu_hour is not None and self.price_version is None


@dataclass(frozen=True, slots=True)
class StateChange:
    from_state: LeaseState | None
    to_state: LeaseState
    at_s: int
    actor: str
    reason: str


@dataclass(frozen=True, slots=True)
class Segment:
    """Contracted GPUs over ``[start_s, end_s)``."""

    start_s: int
    end_s: int
    gpus: int


class AmendmentKind(StrEnum):
    """What an amendment changed. Extend, shrink and terminate change the contract;
    a swap and a maintenance window leave it as it was (``before == after``)."""

    EXTEND = "extend"  # the end moved later, from the old end on
    SHRINK = "shrink"  # fewer GPUs from ``effective_s`` to the end
    TERMINATE = "terminate"  # ended early at ``effective_s``
    SWAP = "swap"  # a node replaced by another from ``effective_s`` (failure, maintenance)
    MAINTENANCE = "maintenance"  # an announced window the SLA does not count (``window``)


@dataclass(frozen=True, slots=True)
class Amendment:
    """One recorded change of a lease after its booking.

    ``at_s``: when it was recorded; ``effective_s``: from when it changes what is
    delivered (the old end for an extension, the cut for a shrink or termination, the
    swap's instant, a window's start). ``before`` and ``after`` are the whole contract
    either side of it. ``nodes``: ``(out, in)`` pairs of the nodes it moved (a swap,
    an extension onto swapped nodes; ``in`` ``None`` for a node released by a
    shrink). ``window``: a maintenance window's ``[start, end)``, else ``None``.
    """

    kind: AmendmentKind
    at_s: int
    effective_s: int
    actor: str
    reason: str
    before: tuple[Segment, ...]
    after: tuple[Segment, ...]
    nodes: tuple[tuple[str, str | None], ...] = ()
    window: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease record. ``contract`` is the contracted GPUs over time (steps, shrink,
    extend and termination edit it); the ledger holds which nodes deliver it.
    ``amendments``: every change after booking, oldest first (see :class:`Amendment`)."""

    id: str
    request: LeaseRequest
    state: LeaseState
    model: str
    contract: tuple[Segment, ...]
    created_s: int
    hold_expires_s: int | None = None
    history: tuple[StateChange, ...] = ()
    degraded_nodes: tuple[str, ...] = ()
    amendments: tuple[Amendment, ...] = ()

    @property
    def degraded(self) -> bool:
        """True while a failed node of the lease has no replacement."""
        return bool(self.degraded_nodes)

    @property
    def tenant(self) -> str:
        return self.request.tenant

    @property
    def price_per_gpu_hour(self) -> Money:
        """The price it was signed at (a booked lease always has one)."""
        price = self.request.price_per_gpu_hour
        if price is None:
            raise LeaseRuleError(f"lease {self.id} has no price")
        return price

    @property
    def start_s(self) -> int:
        return self.contract[0].start_s if self.contract else self.request.start_s

    @property
    def end_s(self) -> int:
        return self.contract[-1].end_s if self.contract else self.request.end_s

    @property
    def gpus(self) -> int:
        """The most GPUs contracted at any time."""
        return max((s.gpus for s in self.contract), default=0)

    def contracted_at(self, t_s: int) -> int:
        return next((s.gpus for s in self.contract if s.start_s <= t_s < s.end_s), 0)

    @property
    def booked_contract(self) -> tuple[Segment, ...]:
        """The contract as booked (steps included), before any amendment."""
        return self.amendments[0].before if self.amendments else self.contract

    @property
    def maintenance_windows(self) -> tuple[tuple[int, int], ...]:
        """The announced maintenance windows ``[start, end)``, in the order announced."""
        return tuple(a.window for a in self.amendments if a.kind is AmendmentKind.MAINTENANCE and a.window)


class AmendmentError(LeaseRuleError):
    """An amendment that does not follow from the contract before it (see :func:`replay_contract`)."""


def amend(lease: Lease, amendment: Amendment) -> Lease:
    """``lease`` with ``amendment`` appended and its contract set to ``amendment.after``."""
    return replace(lease, contract=amendment.after, amendments=(*lease.amendments, amendment))


def replay_contract(booked: tuple[Segment, ...], amendments: tuple[Amendment, ...]) -> tuple[Segment, ...]:
    """The contract after ``amendments``, applied in order to the ``booked`` one.

    Each amendment must start from the contract the previous one left and change it
    only as its kind allows (:func:`amendment_problem`); otherwise
    :class:`AmendmentError` names the amendment (by index) and what is wrong."""
    contract = booked
    for k, a in enumerate(amendments):
        problem = "its contract before is not the one the previous amendments left" if a.before != contract else None
        problem = problem or amendment_problem(a)
        if problem is not None:
            raise AmendmentError(f"amendments[{k}] ({a.kind.value}): {problem}")
        contract = a.after
    return contract


def amendment_problem(a: Amendment) -> str | None:
    """Why ``a.after`` does not follow from ``a.before`` by its kind, or ``None``.

    Extend: the same segments with the last one ending later, effective at the old
    end. Shrink: the contract clipped at ``effective_s`` then one segment of fewer
    GPUs to the same end. Terminate: the contract clipped at ``effective_s``, earlier
    than its end. Swap and maintenance: unchanged; a maintenance window is non-empty
    and effective from its start."""
    before, after = a.before, a.after
    if a.kind in (AmendmentKind.SWAP, AmendmentKind.MAINTENANCE):
        if after != before:
            return "a swap or maintenance window must leave the contract as it was"
        if a.kind is AmendmentKind.MAINTENANCE and (a.window is None or not a.effective_s == a.window[0] < a.window[1]):
            return "a maintenance window needs a start before its end, effective from its start"
        return None
    if not before:
        return "an empty contract cannot change"
    end = before[-1].end_s
    if a.kind is AmendmentKind.EXTEND:
        ok = bool(after) and after[:-1] == before[:-1] and after[-1].end_s > end and a.effective_s == end
        ok = ok and (after[-1].start_s, after[-1].gpus) == (before[-1].start_s, before[-1].gpus)
        return None if ok else "an extension moves the last segment's end later, effective at the old end"
    if a.kind is AmendmentKind.TERMINATE:
        ok = before[0].start_s <= a.effective_s < end and after == clip_contract(before, a.effective_s)
        return None if ok else "a termination clips the contract at a time before its end"
    held = next((s.gpus for s in before if s.start_s <= a.effective_s < s.end_s), 0)
    shrunk = (*clip_contract(before, a.effective_s), Segment(a.effective_s, end, after[-1].gpus if after else 0))
    ok = bool(after) and after == shrunk and 0 < after[-1].gpus < held
    return None if ok else "a shrink holds fewer GPUs from its effective time to the same end"


def clip_contract(contract: tuple[Segment, ...], at_s: int) -> tuple[Segment, ...]:
    """The contract up to ``at_s``."""
    return tuple(replace(s, end_s=min(s.end_s, at_s)) for s in contract if s.start_s < at_s)


def change_state(lease: Lease, target: LeaseState, *, at_s: int, actor: str, reason: str) -> Lease:
    """``lease`` moved to ``target``; raises :class:`LeaseRuleError` on an illegal edge."""
    if (lease.state, target) not in TRANSITIONS:
        allowed = sorted(t.value for (f, t) in TRANSITIONS if f is lease.state)
        raise LeaseRuleError(
            f"lease {lease.id}: cannot go from {lease.state.value} to {target.value}; "
            f"allowed from {lease.state.value}: {', '.join(allowed) or 'none (final state)'}"
        )
    record = StateChange(lease.state, target, at_s, actor, reason)
    return replace(lease, state=target, history=(*lease.history, record))


def with_credit_terms(request: LeaseRequest) -> LeaseRequest:
    """``request`` as a lease is signed with it: its stated credit tiers, or (none
    stated) the defaults for its availability target, written into the request so the
    lease keeps them whatever the defaults become later."""
    if request.sla_credit_tiers:
        return request
    return replace(request, sla_credit_tiers=default_credit_tiers(request.sla_availability_pct))


def contract_from(request: LeaseRequest, gpus: int) -> tuple[Segment, ...]:
    """Contract segments for a request placed with ``gpus`` at its start and its steps after."""
    points = [(request.start_s, gpus), *((s.at_s, s.gpus) for s in request.steps)]
    bounds = [p[0] for p in points[1:]] + [request.end_s]
    return tuple(Segment(start, end, n) for (start, n), end in zip(points, bounds, strict=True) if end > start)


def validate_request(request: LeaseRequest, now_s: int, horizon_s: int = MAX_HORIZON_S) -> list[str]:
    """Every problem with a request, each naming the field (empty when valid).

    Counts are bounded (:data:`MAX_GPUS`, :data:`MAX_UNITS`, :data:`MAX_STEPS`,
    :data:`MAX_SPARES`), dates lie between now and ``horizon_s`` ahead, and the price
    and SLA follow :func:`terms_problems`, the credit tiers and cap
    :func:`~neocloud.domain.credits.credit_problems`."""
    problems: list[str] = []
    if not request.tenant.strip():
        problems.append("tenant: must not be empty")
    problems += _window_problems(request, now_s, horizon_s)
    problems += _shape_problems(request.shape)
    price = request.price_per_gpu_hour
    problems += terms_problems(Terms(LIST_PRICE if price is None else price, request.sla_availability_pct))
    problems += credit_problems(request.sla_availability_pct, request.sla_credit_tiers, request.sla_credit_cap)
    problems += _step_problems(request)
    problems += _spare_problems(request.spares)
    if not 0 <= request.maintenance_notice_s <= MAX_MAINTENANCE_NOTICE_S:
        problems.append("maintenance_notice: must be 0 to 365 days")
    return problems


def terms_problems(terms: Terms) -> list[str]:
    """A price per GPU-hour within bounds and the currency's precision (see
    :func:`~neocloud.domain.money.price_problems`); an SLA above 0 and at most 100
    percent, with at most :data:`SLA_PLACES` decimal places."""
    return price_problems(terms.price_per_gpu_hour) + sla_target_problems(terms.sla_availability_pct)


def sla_target_problems(sla: Decimal) -> list[str]:
    """An availability target above 0 and at most 100 percent, with at most
    :data:`SLA_PLACES` decimal places (field ``sla``)."""
    if not Decimal(0) < sla <= Decimal(100):
        return ["sla: availability must be above 0 and at most 100 percent"]
    if _places(sla) > SLA_PLACES:
        return [f"sla: {sla} has more than {SLA_PLACES} decimal places (99.999 is five nines)"]
    return []


def horizon_problems(field: str, t_s: int, now_s: int, horizon_s: int = MAX_HORIZON_S) -> list[str]:
    """``t_s`` is no later than ``horizon_s`` after ``now_s``: leases are not booked
    decades ahead (a typo for year 2027 must not hold nodes until year 9999)."""
    if t_s - now_s <= horizon_s:
        return []
    years = f"{horizon_s / (365.25 * 86_400):.3g}"
    return [f"{field}: {_iso(t_s)} is more than {years} years ahead; the latest allowed is {_iso(now_s + horizon_s)}"]


def requested_shape(
    models: tuple[str, ...],
    *,
    gpus: int | None = None,
    unit: Unit | None = None,
    units: int | None = None,
    whole_site: str | None = None,
    site: str | None = None,
    locality: Locality = Locality.ANYWHERE,
) -> Shape | list[str]:
    """The shape that a request's fields (API body or CLI options alike) ask for, or
    the problems of fields that contradict each other, each naming all of them.

    One of ``gpus``, ``unit`` (with ``units``, default 1) or ``whole_site`` says how
    much. Without ``models`` any GPU model will do (``("*",)``, which the service spells
    out as the fleet's models, tried in order); so a whole site is every model of it."""
    given = [name for name, value in (("gpus", gpus), ("unit", unit), ("whole_site", whole_site)) if value is not None]
    problems = []
    if len(given) > 1:
        problems.append(f"{', '.join(given)}: give only one of gpus, unit (with units) or whole_site")
    if units is not None and unit is None:
        problems.append("units: only with unit")
    if whole_site is not None and site is not None:
        problems.append("site, whole_site: whole_site names the site already; give one of them")
    if problems:
        return problems
    if whole_site is not None:
        unit, site = Unit.SITE, whole_site
    models = models or ("*",)
    return Shape(models, gpus=gpus, unit=unit, units=1 if units is None else units, locality=locality, site=site)


def _window_problems(request: LeaseRequest, now_s: int, horizon_s: int) -> list[str]:
    problems = []
    if request.start_s >= request.end_s:
        problems.append("start: must be before end")
    if request.start_s < now_s:
        problems.append("start: is in the past")
    problems += horizon_problems("start", request.start_s, now_s, horizon_s)
    if not problems:
        problems += horizon_problems("end", request.end_s, now_s, horizon_s)
    return problems


def _shape_problems(shape: Shape) -> list[str]:
    problems = []
    if not shape.models:
        problems.append("model: give at least one GPU model")
    if shape.unit is None and (shape.gpus is None or shape.gpus <= 0):
        problems.append("gpus: give a positive GPU count or whole units")
    if shape.unit is None and shape.gpus is not None and shape.gpus > MAX_GPUS:
        problems.append(f"gpus: {shape.gpus:,} is more than {MAX_GPUS:,}")
    if shape.unit is not None and not 0 < shape.units <= MAX_UNITS:
        problems.append(f"units: must be at least 1 and at most {MAX_UNITS:,}")
    return problems


def _step_problems(request: LeaseRequest) -> list[str]:
    if len(request.steps) > MAX_STEPS:
        return [f"steps: {len(request.steps):,} steps; at most {MAX_STEPS}"]
    problems = []
    last = request.start_s
    for k, step in enumerate(request.steps):
        if not last < step.at_s < request.end_s:
            problems.append(f"steps[{k}].at: must be after the previous step and before the end")
        if not 0 < step.gpus <= MAX_GPUS:
            problems.append(f"steps[{k}].gpus: must be positive and at most {MAX_GPUS:,}")
        last = step.at_s
    if request.steps and request.shape.unit is not None:
        problems.append("steps: only GPU-count leases can have steps")
    return problems


def _spare_problems(spares: SparePolicy | None) -> list[str]:
    if spares is None:
        return []
    problems = []
    if spares.per not in SPARE_LEVELS:
        problems.append("spares.per: must be nvlink_domain or block")
    if not 0 < spares.count <= MAX_SPARES:
        problems.append(f"spares.count: must be positive and at most {MAX_SPARES:,}")
    return problems


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _iso(t_s: int) -> str:
    return datetime.fromtimestamp(t_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
