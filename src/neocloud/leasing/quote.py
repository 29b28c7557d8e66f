"""Quoting: a plan with its price, or a refusal with what would fit instead.

For people (the CLI, the API, the dashboard); a scheduler calls ``plan`` itself.
The search for alternatives tries a looser locality and later starts (at most
``MAX_LATER_STARTS`` of them, at the times bookings end), each a cheap ``plan``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import StrEnum

from neocloud.domain.errors import DomainError, RequestError, minutes_utc
from neocloud.domain.leases import MAX_HORIZON_S, LeaseRequest, validate_request, with_credit_terms
from neocloud.domain.money import Money
from neocloud.domain.shape import LOOSER, Locality
from neocloud.leasing.plan import Plan, plan
from neocloud.leasing.view import LedgerView
from neocloud.placement.carve import Infeasible

HOUR_S = 3600
MAX_LATER_STARTS = 200


class AlternativeKind(StrEnum):
    LATER_START = "later_start"
    FEWER_GPUS = "fewer_gpus"
    LOOSER_LOCALITY = "looser_locality"


@dataclass(frozen=True, slots=True)
class Alternative:
    """A change to the request that would fit."""

    kind: AlternativeKind
    description: str
    start_s: int | None = None
    gpus: int | None = None
    locality: Locality | None = None


@dataclass(frozen=True, slots=True)
class Quote(Plan):
    """A plan with its price: the contracted GPU-hours and what they cost. Nothing is booked."""

    gpu_hours: Decimal
    total: Money

    @classmethod
    def of_plan(cls, p: Plan) -> Quote:
        """The plan at its request's price per GPU-hour (a request without one is refused)."""
        price = p.request.price_per_gpu_hour
        if price is None:
            raise RequestError(["price: none given, and no price book to take one from"])
        return cls.priced(p, p.request, price.times(gpu_hours(p)))

    @classmethod
    def priced(cls, p: Plan, request: LeaseRequest, total: Money) -> Quote:
        """The plan for ``request`` (``p``'s, with its price filled in) costing ``total``."""
        planned = {f.name: getattr(p, f.name) for f in fields(Plan)} | {"request": request}
        return cls(**planned, gpu_hours=gpu_hours(p), total=total)


#: What prices a plan: :meth:`Quote.of_plan` (the request's own price) or a price book's.
Pricer = Callable[[Plan], Quote]


def gpu_hours(p: Plan) -> Decimal:
    """The contracted GPU-hours of a plan (exact)."""
    return sum((Decimal(s.gpus) * Decimal(s.end_s - s.start_s) / HOUR_S for s in p.contract), Decimal(0))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request cannot be placed, and what would fit instead."""

    reason: str
    alternatives: tuple[Alternative, ...] = ()


class Unplaceable(DomainError):
    """A request that does not fit; carries the refusal with its alternatives."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        alts = "; ".join(a.description for a in refusal.alternatives)
        super().__init__(refusal.reason + (f". Alternatives: {alts}" if alts else ""))


def quote(
    view: LedgerView, request: LeaseRequest, now_s: int, price: Pricer | None = None, *, with_alternatives: bool = True
) -> Quote | Refusal:
    """Place ``request`` on free capacity; a plan priced by ``price`` (default: the
    request's own price), or the reason and (``with_alternatives``) alternatives. The
    plan's request states the SLA credit tiers it would be signed with (the defaults
    where it states none). A replay of many requests asks for no alternatives: they
    are for people, and a refusal's search for them costs up to 200 plans."""
    problems = validate_request(request, now_s)
    if problems:
        raise RequestError(problems)
    request = with_credit_terms(request)
    found = plan(view, request)
    if isinstance(found, Plan):
        return (price or Quote.of_plan)(found)
    if not with_alternatives:
        return Refusal(found.reason)
    return Refusal(found.reason, alternatives(view, request, found, now_s=now_s))


def alternatives(
    view: LedgerView, request: LeaseRequest, failed: Infeasible, *, now_s: int, horizon_s: int = MAX_HORIZON_S
) -> tuple[Alternative, ...]:
    """Fewer GPUs, a looser locality, a later start: each only if it would fit."""
    out: list[Alternative] = []
    shape = request.shape
    if shape.unit is None and 0 < failed.max_gpus < (shape.gpus or 0):
        text = f"{failed.max_gpus:,} GPUs fit with the same locality and dates"
        out.append(Alternative(AlternativeKind.FEWER_GPUS, text, gpus=failed.max_gpus))
    looser = LOOSER.get(shape.locality)
    while looser is not None:
        if isinstance(plan(view, replace(request, shape=replace(shape, locality=looser))), Plan):
            text = f"fits with locality {looser.value}"
            out.append(Alternative(AlternativeKind.LOOSER_LOCALITY, text, locality=looser))
            break
        looser = LOOSER.get(looser)
    days = (request.end_s - request.start_s) / 86_400
    for t in view.ledger.change_times(request.start_s, MAX_LATER_STARTS):
        later = shifted(request, t - request.start_s)
        if later.end_s - now_s > horizon_s:
            break  # past the booking horizon: a retry would be refused, so it is no alternative
        if isinstance(plan(view, later), Plan):
            text = f"fits if it starts at {minutes_utc(t)} for the same {days:g} days"
            out.append(Alternative(AlternativeKind.LATER_START, text, start_s=t))
            break
    return tuple(out)


def shifted(request: LeaseRequest, by_s: int) -> LeaseRequest:
    """The same request moved ``by_s`` seconds later (steps too)."""
    steps = tuple(replace(s, at_s=s.at_s + by_s) for s in request.steps)
    return replace(request, start_s=request.start_s + by_s, end_s=request.end_s + by_s, steps=steps)
