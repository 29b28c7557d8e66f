"""Deal analysis and the book of contracts: operator only (costs, margins and other
tenants' contracts are the operator's; a tenant key gets 403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.schemas import PROBLEMS, Instant, seconds
from neocloud.api.schemas_deals import BookOut, DealIn, DealOut

router = APIRouter(prefix="/v1/economics", tags=["economics"], responses=PROBLEMS)


@router.post("/deals", response_model=DealOut)
def analyse_deal(body: DealIn, _: OperatorDep, svc: ServicesDep) -> DealOut:
    """Analyse a proposed deal on a site of the fleet: cash flows, NPV, IRR, payback,
    earliest exit, revenue at risk, implied price, and the book with it. Writes nothing."""
    return DealOut.of(svc.deals.analyse_on_ledger(body.to_domain(), with_book=body.with_book))


@router.get("/book", response_model=BookOut)
def book(
    _: OperatorDep,
    svc: ServicesDep,
    start: Annotated[Instant | None, Query(description="Revenue period start (default: now).")] = None,
    end: Annotated[Instant | None, Query(description="Revenue period end, exclusive (default: a year on).")] = None,
) -> BookOut:
    """The book of the ledger's live leases: backlog, weighted term, take-or-pay share,
    top-1 share, HHI (0-10,000), revenue and revenue at risk by tenant, and commitments per site."""
    return BookOut.of(svc.deals.book(start_s=seconds(start), end_s=seconds(end)))
