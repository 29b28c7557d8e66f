"""The month so far (``until_s``): what the dashboard's preview and a lease's SLA for
the current month show, rated by the same meter, rate and credit as the invoice run."""

from __future__ import annotations

from decimal import Decimal

from neocloud.billing import rate_lease, signed_price
from neocloud.billing.metering import meter
from neocloud.domain.billing import period
from neocloud.domain.health import Health
from neocloud.domain.leases import Tier
from neocloud.domain.money import Money
from neocloud.economics.pricebook import PriceBook, RateCards, WholesaleCard
from tests.billing_builders import DAY, a_lease, at, history, whole

JAN = period("2027-01")


def test_a_wholesale_fee_rated_to_an_instant_is_the_calendar_months_share_up_to_then() -> None:
    card = WholesaleCard("H100", per_gpu_month=Money(Decimal("1000")))
    book = PriceBook(1, 0, RateCards(wholesale=(card,)))
    lease = a_lease(((at(2026, 12, 1), at(2028, 1, 1), 64),), tier=Tier.WHOLESALE, version=1, price="1.4")
    h = history(lease, whole(lease, 8))
    to_date = rate_lease(h, JAN, signed_price(lease, [book]), until_s=at(2027, 1, 11))
    # 64 GPUs x $1,000 x 10 of 31 days = 20,645.161... -> 20,645.16
    assert to_date.charge.amount == Money(Decimal("20645.16"))
    assert to_date.usage.contracted_gpu_s == 64 * 10 * DAY
    assert to_date.usage.end_s == at(2027, 1, 11)
    whole_month = rate_lease(h, JAN, signed_price(lease, [book]))
    assert whole_month.charge.amount == Money(Decimal("64000.00"))
    assert whole_month.usage.until_s is None


def test_a_failure_so_far_earns_the_credit_of_the_month_so_far_not_of_the_whole_month() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 3, 1), 8),))  # reserved, 8 GPUs at $2.00
    log = (("n000", at(2027, 1, 9), Health.FAILED), ("n000", at(2027, 1, 10), Health.HEALTHY))
    h = history(lease, whole(lease, 1), log)
    price = signed_price(lease, [])
    so_far = rate_lease(h, JAN, price, until_s=at(2027, 1, 11))
    # 9 of 10 days delivered: 90.0%, below 95% (25%) but not below 90% (100%)
    assert so_far.usage.available_gpu_s * 10 == so_far.usage.counted_gpu_s * 9
    assert so_far.charge.amount == Money(Decimal("3840.00"))  # 8 x 240 h x $2.00
    assert so_far.credit is not None
    assert so_far.credit.amount == Money(Decimal("-960.00"))  # 25% of 3,840.00
    month = rate_lease(h, JAN, price)
    assert month.credit is not None
    assert month.credit.amount == Money(Decimal("-1190.40"))  # 30/31 = 96.8%: 10% of 11,904.00
    assert meter(h, JAN, at(2027, 1, 11)) == so_far.usage
