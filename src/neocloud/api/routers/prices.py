"""The price book: the book in force (every key), its versions and publishing (operator only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from neocloud.api.auth import OperatorDep, PrincipalDep, ServicesDep
from neocloud.api.schemas import PROBLEMS, Instant, seconds
from neocloud.api.schemas_prices import BookOut, VersionIn, VersionsOut

router = APIRouter(prefix="/v1/prices", tags=["prices"], responses=PROBLEMS)


@router.get("", response_model=BookOut)
def in_force(
    who: PrincipalDep, svc: ServicesDep, at: Annotated[Instant | None, Query(description="Default: now.")] = None
) -> BookOut:
    """The rate cards in force at ``at``: what every tenant is quoted. 404 before the first version."""
    return BookOut.of(svc.pricing.book_at(seconds(at)), operator=who.is_operator)


@router.get("/versions", response_model=VersionsOut)
def versions(_: OperatorDep, svc: ServicesDep) -> VersionsOut:
    """Every version, oldest first (operator only)."""
    return VersionsOut(items=[BookOut.of(b, operator=True) for b in svc.pricing.versions()])


@router.post("/versions", status_code=201, response_model=BookOut)
def publish(body: VersionIn, who: OperatorDep, svc: ServicesDep) -> BookOut:
    """Publish a new version, effective now or later; 422 naming each bad field, nothing written."""
    book = svc.pricing.publish_document(
        body.cards, source="cards", actor=who.actor, effective_s=seconds(body.effective)
    )
    return BookOut.of(book, operator=True)
