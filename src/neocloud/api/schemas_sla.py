"""API schemas of a lease's SLA credit terms: the tiers and the cap its contract states.

Standalone (``schemas.py`` imports it for ``LeaseIn`` and ``LeaseOut``). Percentages
travel as strings (numbers are accepted in a body, as ``sla`` is); a share of the
period's charge is given and shown in percent (``credit_pct`` 10 is a share of 0.10).
Setting them is the operator's (``OPERATOR_TERMS``); a tenant reads its own lease's
terms whole: they are its contract.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from neocloud.domain.credits import DEFAULT_CAP_SHARE, MAX_CREDIT_TIERS, CreditTier, credits_document

HUNDRED = Decimal(100)


class CreditTierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    below_pct: Decimal = Field(description="Availability below this percent earns the credit (at most the target).")
    credit_pct: Decimal = Field(description="Percent of the period's charge credited, above 0 and at most 100.")


class SlaCreditsIn(BaseModel):
    """Operator only: the SLA credit tiers, highest threshold first, and the cap."""

    model_config = ConfigDict(extra="forbid")

    tiers: list[CreditTierIn] = Field(
        default_factory=list,
        max_length=MAX_CREDIT_TIERS,
        description=f"At most {MAX_CREDIT_TIERS}, thresholds strictly decreasing, credits never decreasing. "
        "Empty: the defaults for the target (10% below it, 25% below 95, 100% below 90), fixed at booking.",
    )
    cap_pct: Decimal | None = Field(None, description="Most credit in a period, percent of its charge (default 100).")

    def to_domain(self) -> tuple[tuple[CreditTier, ...], Decimal]:
        """The tiers (shares) and the cap share, as ``LeaseRequest`` takes them."""
        tiers = tuple(CreditTier(t.below_pct, t.credit_pct / HUNDRED) for t in self.tiers)
        return tiers, DEFAULT_CAP_SHARE if self.cap_pct is None else self.cap_pct / HUNDRED


def credit_terms(credits: SlaCreditsIn | None) -> tuple[tuple[CreditTier, ...], Decimal]:
    """What a body's ``sla_credits`` states; none: no tiers (the defaults at booking), the default cap."""
    return ((), DEFAULT_CAP_SHARE) if credits is None else credits.to_domain()


class CreditTierOut(BaseModel):
    below_pct: str
    credit_pct: str


class SlaCreditsOut(BaseModel):
    tiers: list[CreditTierOut] = Field(description="The tiers the lease was signed with, highest threshold first.")
    cap_pct: str = Field(description="Most credit in a period, percent of its charge.")

    @classmethod
    def of(cls, tiers: tuple[CreditTier, ...], cap_share: Decimal) -> SlaCreditsOut:
        return cls.model_validate(credits_document(tiers, cap_share))
