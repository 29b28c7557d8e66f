"""Rating (billing/rating.py): charge lines from the price a lease was signed at, with
numbers computed by hand in the comments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import pytest

from neocloud.billing.metering import meter
from neocloud.billing.rating import rate, signed_price
from neocloud.domain.billing import InvoiceLine, LineKind, Period, period
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, Segment, Tier
from neocloud.domain.money import Money
from neocloud.economics.pricebook import PriceBook, PriceRefused, RampStep, RateCards, WholesaleCard
from tests.billing_builders import DAY, HOUR, a_lease, at, history, whole

JAN, APR = period("2027-01"), period("2027-04")
RAMP = (RampStep(1, Decimal("0.50")), RampStep(2, Decimal("0.25")))


def _book(version: int, per_gpu_month: str, ramp: tuple[RampStep, ...] = RAMP) -> PriceBook:
    card = WholesaleCard("H100", per_gpu_month=Money(Decimal(per_gpu_month)), ramp=ramp)
    return PriceBook(version, 0, RateCards(wholesale=(card,)))


def _wholesale(segments: tuple[tuple[int, int, int], ...], version: int | None = 1) -> Lease:
    return a_lease(segments, tier=Tier.WHOLESALE, version=version, price="1.4109")


def _charge(
    lease: Lease, p: Period, books: Sequence[PriceBook] = (), log: tuple[tuple[str, int, Health], ...] = ()
) -> InvoiceLine:
    nodes = -(-max(s.gpus for s in lease.contract) // 8)
    h = history(lease, whole(lease, nodes), log)
    return rate(lease, meter(h, p), signed_price(lease, books))


def test_a_wholesale_first_month_pays_the_ramp_of_each_contract_month_it_holds() -> None:
    lease = _wholesale(((at(2027, 1, 1), at(2028, 1, 1), 512),))
    line = _charge(lease, JAN, [_book(1, "1000")])
    # contract month 1 is the first 730.5 h (to Jan 31 10:30) at -50%, the 13.5 h left of
    # January are month 2 at -25%: 512,000 x (2,629,800 x 0.5 + 48,600 x 0.75) / 2,678,400
    # = 258,322.5806... -> 258,322.58
    assert line.amount == Money(Decimal("258322.58"))
    assert line.gpu_s == 512 * 31 * DAY
    assert "ramp month 1 -50%, 2 -25%" in line.description


def test_a_full_calendar_month_past_the_ramp_is_the_fee_to_the_cent() -> None:
    lease = _wholesale(((at(2027, 1, 1), at(2028, 1, 1), 512),))
    assert _charge(lease, APR, [_book(1, "1000")]).amount == Money(Decimal("512000.00"))


def test_a_unit_fee_that_does_not_divide_by_its_gpus_still_bills_a_full_month_to_the_cent() -> None:
    card = WholesaleCard("H100", monthly_fee=Money(Decimal("1250000000")), unit_gpus=230_024)
    book = PriceBook(1, 0, RateCards(wholesale=(card,)))
    lease = _wholesale(((at(2027, 1, 1), at(2028, 1, 1), 230_024),))
    assert _charge(lease, APR, [book]).amount == Money(Decimal("1250000000.00"))


def test_a_wholesale_month_in_chicago_is_the_fee_although_dst_makes_it_743_hours() -> None:
    march = period("2027-03", "America/Chicago")
    assert march.seconds == 743 * HOUR
    lease = _wholesale(((at(2026, 1, 1), at(2028, 1, 1), 512),))
    assert _charge(lease, march, [_book(1, "1000")]).amount == Money(Decimal("512000.00"))


def test_a_reserved_month_in_chicago_bills_its_743_hours() -> None:
    march = period("2027-03", "America/Chicago")
    lease = a_lease(((at(2026, 1, 1), at(2028, 1, 1), 8),), price="2.00")
    line = _charge(lease, march)
    assert line.gpu_s == 8 * 743 * HOUR
    assert line.amount == Money(Decimal("11888.00"))  # 8 x 743 h x 2.00


def test_a_mid_month_extend_bills_the_month_to_the_new_end() -> None:
    before = a_lease(((at(2027, 1, 1), at(2027, 1, 20), 16),), price="2.00")
    extended = replace(before, contract=(Segment(at(2027, 1, 1), at(2027, 2, 10), 16),))
    assert _charge(before, JAN).amount == Money(Decimal("14592.00"))  # 16 x 19 d x 24 h x 2.00
    assert _charge(extended, JAN).amount == Money(Decimal("23808.00"))  # 16 x 31 d x 24 h x 2.00


def test_a_termination_mid_month_prorates_to_the_second() -> None:
    reserved = a_lease(((at(2027, 1, 1), at(2027, 1, 15, 12), 16),), price="2.00")
    assert _charge(reserved, JAN).amount == Money(Decimal("11136.00"))  # 16 x 348 h x 2.00
    wholesale = _wholesale(((at(2026, 1, 1), at(2027, 1, 15, 12), 512),))
    # 512,000 x 14.5 / 31 = 239,483.8709... -> 239,483.87
    assert _charge(wholesale, JAN, [_book(1, "1000")]).amount == Money(Decimal("239483.87"))


def test_a_shrink_bills_each_segment_at_its_gpus() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 1, 11), 16), (at(2027, 1, 11), at(2027, 3, 1), 8)), price="2.00")
    # (16 GPUs x 240 h + 8 GPUs x 504 h) x 2.00 = 7,872 GPU-h x 2.00
    assert _charge(lease, JAN).amount == Money(Decimal("15744.00"))


def test_on_demand_bills_what_was_delivered_and_reserved_what_was_contracted() -> None:
    log = (("n000", at(2027, 1, 10), Health.FAILED), ("n000", at(2027, 1, 11), Health.HEALTHY))
    on_demand = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),), tier=Tier.ON_DEMAND, price="3.99")
    line = _charge(on_demand, JAN, log=log)
    assert line.gpu_s == 8 * 30 * DAY  # 30 healthy days
    assert line.amount == Money(Decimal("22982.40"))  # 8 x 720 h x 3.99
    reserved = replace(on_demand, request=replace(on_demand.request, tier=Tier.RESERVED))
    assert _charge(reserved, JAN, log=log).amount == Money(Decimal("23748.48"))  # 8 x 744 h x 3.99


def test_spot_bills_what_was_delivered() -> None:
    spot = a_lease(((at(2027, 1, 1), at(2027, 1, 2), 8),), tier=Tier.SPOT, price="1.5960")
    log = (("n000", at(2027, 1, 1, 18), Health.FAILED),)
    assert _charge(spot, JAN, log=log).amount == Money(Decimal("229.82"))  # 8 x 18 h x 1.596 = 229.824


def test_the_price_comes_from_the_version_the_lease_was_signed_at_not_the_latest() -> None:
    lease = _wholesale(((at(2026, 1, 1), at(2028, 1, 1), 512),), version=1)
    books = [_book(1, "1000"), _book(2, "2000")]
    assert _charge(lease, APR, books).amount == Money(Decimal("512000.00"))


def test_an_explicit_operator_price_on_a_wholesale_lease_is_per_gpu_hour_on_the_contract() -> None:
    lease = _wholesale(((at(2026, 1, 1), at(2028, 1, 1), 8),), version=None)  # price 1.4109, no version
    line = _charge(lease, APR, [_book(1, "1000")])
    assert line.amount == Money(Decimal("8126.78"))  # 8 x 720 h x 1.4109 = 8,126.784
    assert line.kind is LineKind.CHARGE


def test_a_wholesale_mix_without_a_card_of_its_own_pays_each_models_card_by_its_gpus() -> None:
    cards = (
        WholesaleCard("H100", per_gpu_month=Money(Decimal("1000")), ramp=(RampStep(1, Decimal("0.5")),)),
        WholesaleCard("H200", per_gpu_month=Money(Decimal("2000"))),
    )
    book = PriceBook(1, 0, RateCards(wholesale=cards))
    lease = a_lease(((APR.start_s, at(2028, 1, 1), 1024),), tier=Tier.WHOLESALE, version=1, model="H100+H200")
    price = signed_price(lease, [book], mix={"H100": 512, "H200": 512})
    line = rate(lease, meter(history(lease, whole(lease, 128)), APR), price)
    # April's 720 h are all contract month 1: 512 x 1,000 x 0.5 + 512 x 2,000 = 1,280,000.00
    assert line.amount == Money(Decimal("1280000.00"))
    june = rate(lease, meter(history(lease, whole(lease, 128)), period("2027-06")), price)
    assert june.amount == Money(Decimal("1536000.00"))  # past the ramp: 512 x 1,000 + 512 x 2,000
    with pytest.raises(PriceRefused, match=r"lease L-1: version 1 has no wholesale card for B200$"):
        signed_price(lease, [book], mix={"H100": 512, "B200": 512})
    with pytest.raises(PriceRefused, match=r"no wholesale card for H100\+H200; give the GPUs per model"):
        signed_price(lease, [book])


def test_a_wholesale_lease_signed_at_a_version_not_given_is_refused_not_billed_at_a_guess() -> None:
    lease = _wholesale(((at(2026, 1, 1), at(2028, 1, 1), 512),), version=3)
    with pytest.raises(PriceRefused, match=r"signed at price-book version 3, not among those given \(1, 2\)"):
        signed_price(lease, [_book(1, "1000"), _book(2, "2000")])
