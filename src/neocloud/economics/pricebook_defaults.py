"""The seeded price book (version 1): market prices from ``economics.md`` §1.8 and §6.

Each value carries its source tag and date; derived values [D] show the formula, run
here rather than copied, so that changing an input changes what is derived from it.

- **On-demand** per GPU-hour, neocloud list prices of September 2026.
- **Reserved**: the base is the model's on-demand rate; the discount grows with the
  term. Two points are sourced: the H100 one-year contract price, $2.35 in March 2026
  [R5], is 1 - 2.35 / 3.99 = 0.411 off on-demand (0.4110 gives $2.3501, $2.35 to the
  cent); ``reserved_discount_max`` 0.60 [R29] (CoreWeave's "up to 60%" for committed
  use) is reached at ``contract_term_years`` 5 [R63]. Between one and five years the
  discount is linear in years (0.411 + 0.189 x (years - 1) / 4: 0.458 at two years,
  0.506 at three); below a year it steps by 0.10 a quarter-ish (1, 3, 6 months: 0.10,
  0.20, 0.30), so a shorter commitment never earns more than a longer one; under a
  month there is no discount.
- **Spot**: ``spot_discount`` 0.60 off on-demand [R29] (CoreWeave spot is about 40% of
  on-demand); eviction notice 30 minutes [D], the notice on which the grid may curtail
  Colossus' power under its TVA demand-response terms [R42] (2024-11): capacity the
  operator must shed on that notice is what it can promise spot tenants.
- **Wholesale** per GPU-month from IREN-Microsoft [R69] (2025-11): $9.7B over 5 years
  for 200 MW of IT is $9.7M per MW-IT per year [D]; a GPU takes its node's maximum power
  divided by its GPUs (``node_power_kw_max`` [R12][R11][R14]: HGX H100 10.2 kW / 8, the
  HGX H200 the same at the same 700 W TDP, DGX B200 14.3 kW / 8, GB200 NVL72 120 kW /
  72), so per GPU-month = 9.7M x kW / 1,000 / 12 (H100 $1,030.63, $1.41 per GPU-hour).
  Ramp: the first two contract months are reduced, as in the Colossus lease ("reduced
  fees during the May-June 2026 ramp" [R50], amounts not disclosed): 0.50 in month 1
  [D] (the capacity arrives "within the month" [R48], on average half of it) and 0.25
  in month 2 [D] (halfway to the full fee).
"""

from __future__ import annotations

from decimal import Decimal

from neocloud.domain.money import Money, round_rate
from neocloud.economics.pricebook import (
    OnDemandCard,
    RampStep,
    RateCards,
    ReservedCard,
    SpotCard,
    TermDiscount,
    WholesaleCard,
)

CURRENCY = "USD"
SEED_AUTHOR = "neocloud defaults"
SEED_NOTE = "seeded from economics.md §1.8 and §6: market prices of 2026-09 [R5][R29][R30][R31][R69]"

#: ``market_price_on_demand`` (neocloud), USD per GPU-hour, [R29][R30][R31] (2026-09):
#: Lambda 8x H100 3.99, Nebius H200 4.50, Lambda 8x B200 6.69, CoreWeave GB200 10.50.
ON_DEMAND_USD = {"H100": Decimal("3.99"), "H200": Decimal("4.50"), "B200": Decimal("6.69"), "GB200": Decimal("10.50")}

#: Reserved term discounts off on-demand, (min_term_days, discount); derivation above.
RESERVED_DISCOUNTS = (
    (0, Decimal("0")),  # under a month: the on-demand rate
    (30, Decimal("0.10")),  # [D] step below the one-year point
    (91, Decimal("0.20")),  # [D]
    (182, Decimal("0.30")),  # [D]
    (365, Decimal("0.4110")),  # [D] 1 - 2.35 / 3.99: the H100 1-year contract $2.35 [R5] (2026-03)
    (730, Decimal("0.4583")),  # [D] linear in years from 0.411 (1 y) to 0.60 (5 y)
    (1095, Decimal("0.5055")),  # [D]
    (1826, Decimal("0.60")),  # reserved_discount_max [R29] (2026-09) at contract_term_years 5 [R63] (Q4 2025)
)

#: ``spot_discount`` [R29] (2026-09).
SPOT_DISCOUNT = Decimal("0.60")
#: 30 minutes [D]: the curtailment notice of the site's demand-response terms [R42] (2024-11).
SPOT_EVICTION_NOTICE_S = 30 * 60

#: IREN-Microsoft: $9.7B / 5 years / 200 MW of IT [R69] (2025-11) [D].
WHOLESALE_USD_PER_MW_IT_YEAR = Decimal("9.7e9") / 5 / 200
#: IT kW per GPU: ``node_power_kw_max`` / GPUs per node [R12][R11][R14] (2024-26).
IT_KW_PER_GPU = {
    "H100": Decimal("10.2") / 8,
    "H200": Decimal("10.2") / 8,  # same HGX board power at the same 700 W TDP (gpu_tdp_w [R90][R16])
    "B200": Decimal("14.3") / 8,
    "GB200": Decimal("120") / 72,
}
#: Ramp discounts of the first contract months [D] from [R48][R50] (2026-05).
WHOLESALE_RAMP = ((1, Decimal("0.50")), (2, Decimal("0.25")))


def default_cards() -> RateCards:
    """Version 1's cards for H100, H200, B200 and GB200 (the values above)."""
    models = list(ON_DEMAND_USD)
    return RateCards(
        wholesale=tuple(
            WholesaleCard(
                model,
                per_gpu_month=_usd(
                    round_rate(WHOLESALE_USD_PER_MW_IT_YEAR * IT_KW_PER_GPU[model] / 1000 / 12, CURRENCY)
                ),
                ramp=tuple(RampStep(m, d) for m, d in WHOLESALE_RAMP),
            )
            for model in models
        ),
        reserved=tuple(
            ReservedCard(model, _usd(ON_DEMAND_USD[model]), tuple(TermDiscount(t, d) for t, d in RESERVED_DISCOUNTS))
            for model in models
        ),
        on_demand=tuple(OnDemandCard(model, _usd(ON_DEMAND_USD[model])) for model in models),
        spot=tuple(SpotCard(model, SPOT_DISCOUNT, SPOT_EVICTION_NOTICE_S) for model in models),
    )


def _usd(amount: Decimal) -> Money:
    return Money(amount, CURRENCY)
