"""Leases: quote, create, list, show, bookings, confirm, cancel, extend, shrink, terminate, capacity.

Tenants see and change only their own leases (another tenant's is 404). Every POST
that books or changes a lease honours ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from neocloud.api.auth import PrincipalDep, ServicesDep, acting_tenant
from neocloud.api.idempotent import respond
from neocloud.api.read_cache import cached
from neocloud.api.schemas import (
    MAX_CURSOR,
    PROBLEMS,
    BookingOut,
    CapacitySeriesOut,
    ExtendIn,
    LeaseCreatedOut,
    LeaseCreateIn,
    LeaseIn,
    LeaseOut,
    LeaseViewOut,
    PageOut,
    QuoteOut,
    ShrinkIn,
    TerminateIn,
    json_response,
    paged,
    seconds,
)
from neocloud.domain.leases import Lease, LeaseState
from neocloud.leasing.engine import Quote
from neocloud.services.idempotency import Claim
from neocloud.services.visibility import Viewer

router = APIRouter(prefix="/v1/leases", tags=["leases"], responses=PROBLEMS)


@router.post("/quote", response_model=QuoteOut)
def quote(body: LeaseIn, who: PrincipalDep, svc: ServicesDep) -> Response:
    """Where the lease would go and at what price, or why not with alternatives. Books nothing."""
    lease_request = body.to_domain(acting_tenant(who, body.tenant), svc.leasing.terms, by_operator=who.is_operator)
    found = svc.leasing.quote(lease_request)
    margin = svc.leasing.quote_margin(found) if who.is_operator and isinstance(found, Quote) else None
    return json_response(QuoteOut.of(found, margin))


@router.post("", status_code=201, response_model=LeaseCreatedOut)
def create(body: LeaseCreateIn, who: PrincipalDep, svc: ServicesDep, request: Request) -> Response:
    """Book a lease: confirmed at once, or held (it expires) with ``hold``; 409 with alternatives."""
    lease_request = body.to_domain(acting_tenant(who, body.tenant), svc.leasing.terms, by_operator=who.is_operator)

    def act(claim: Claim[tuple[Lease, Quote]] | None) -> tuple[Lease, Quote]:
        return svc.leasing.create(lease_request, actor=who.actor, hold=body.hold, claim=claim)

    def view(booked: tuple[Lease, Quote]) -> LeaseCreatedOut:
        margin = svc.leasing.quote_margin(booked[1]) if who.is_operator else None  # cost is the operator's
        return LeaseCreatedOut.of_booking(*booked, margin)

    return respond(request, who=who, payload=body, status=201, act=act, view=view)


@router.get("", response_model=PageOut[LeaseOut])
def list_leases(
    *,
    request: Request,
    who: PrincipalDep,
    svc: ServicesDep,
    tenant: Annotated[str | None, Query(description="Operator: only this tenant's leases.")] = None,
    state: LeaseState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
) -> Any:
    """Leases, oldest first; a tenant sees only its own."""
    viewer = Viewer.of(who)

    def render() -> bytes:
        page = svc.catalog.leases(viewer, tenant=tenant, state=state, limit=limit, cursor=cursor)
        return bytes(paged(page, LeaseOut.of).body)

    key = ("leases", viewer.tenant, tenant, state, limit, cursor)
    return cached(request, svc, key, render)


@router.get("/{lease_id}", response_model=LeaseViewOut)
def show(lease_id: str, who: PrincipalDep, svc: ServicesDep) -> LeaseViewOut:
    """A lease with its history, its nodes per block and contracted vs delivered GPUs."""
    return LeaseViewOut.of_view(svc.leasing.show(lease_id, viewer=Viewer.of(who)))


@router.get("/{lease_id}/bookings", response_model=PageOut[BookingOut])
def bookings(
    lease_id: str,
    who: PrincipalDep,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> Any:
    """The lease's bookings (its nodes and spares, each over a time span), oldest first, a page at a time."""
    page = svc.catalog.lease_bookings(lease_id, viewer=Viewer.of(who), limit=limit, cursor=cursor)
    return paged(page, BookingOut.of)


@router.get("/{lease_id}/capacity", response_model=CapacitySeriesOut)
def capacity(lease_id: str, who: PrincipalDep, svc: ServicesDep) -> CapacitySeriesOut:
    """Contracted vs delivered GPUs over time, from each change on."""
    return CapacitySeriesOut.of(svc.leasing.show(lease_id, viewer=Viewer.of(who)))


@router.post("/{lease_id}/confirm", response_model=LeaseOut)
def confirm(lease_id: str, who: PrincipalDep, svc: ServicesDep, request: Request) -> Response:
    """Confirm a held lease before its hold expires."""

    def act(claim: Claim[Lease] | None) -> Lease:
        return svc.leasing.confirm(lease_id, actor=who.actor, viewer=Viewer.of(who), claim=claim)

    return respond(request, who=who, payload=None, status=200, act=act, view=LeaseOut.of)


@router.post("/{lease_id}/cancel", response_model=LeaseOut)
def cancel(lease_id: str, who: PrincipalDep, svc: ServicesDep, request: Request) -> Response:
    """Cancel a held or confirmed lease before it starts."""

    def act(claim: Claim[Lease] | None) -> Lease:
        return svc.leasing.cancel(lease_id, actor=who.actor, viewer=Viewer.of(who), claim=claim)

    return respond(request, who=who, payload=None, status=200, act=act, view=LeaseOut.of)


@router.post("/{lease_id}/extend", response_model=LeaseOut)
def extend(lease_id: str, body: ExtendIn, who: PrincipalDep, svc: ServicesDep, request: Request) -> Response:
    """Move the end later; 409 when later leases hold the nodes (``allow_swap`` moves them)."""

    def act(claim: Claim[Lease] | None) -> Lease:
        end_s = seconds(body.end) or 0
        return svc.leasing.extend(
            lease_id, end_s, actor=who.actor, allow_swap=body.allow_swap, viewer=Viewer.of(who), claim=claim
        )

    return respond(request, who=who, payload=body, status=200, act=act, view=LeaseOut.of)


@router.post("/{lease_id}/shrink", response_model=LeaseOut)
def shrink(lease_id: str, body: ShrinkIn, who: PrincipalDep, svc: ServicesDep, request: Request) -> Response:
    """Hold fewer GPUs from ``from`` (default now) on."""

    def act(claim: Claim[Lease] | None) -> Lease:
        from_s = seconds(body.from_)
        return svc.leasing.shrink(lease_id, body.gpus, from_s, actor=who.actor, viewer=Viewer.of(who), claim=claim)

    return respond(request, who=who, payload=body, status=200, act=act, view=LeaseOut.of)


@router.post("/{lease_id}/terminate", response_model=LeaseOut)
def terminate(
    lease_id: str, who: PrincipalDep, svc: ServicesDep, request: Request, body: TerminateIn | None = None
) -> Response:
    """End an active lease early, at ``at`` (default now)."""
    given = body or TerminateIn()

    def act(claim: Claim[Lease] | None) -> Lease:
        at_s = seconds(given.at)
        return svc.leasing.terminate(lease_id, at_s, actor=who.actor, viewer=Viewer.of(who), claim=claim)

    return respond(request, who=who, payload=given, status=200, act=act, view=LeaseOut.of)
