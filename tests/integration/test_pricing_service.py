"""The price book through the store port: versions stored and read back, and leases
priced from the book in force, keeping their version; the same bodies on every store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.adapters.pricefile import cards_from_document
from neocloud.domain.changes import EventQuery, StoreError
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.errors import NotFound
from neocloud.domain.leases import LeaseRequest, Tier
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape, Unit
from neocloud.domain.spec import build_fleet
from neocloud.economics.pricebook import OnDemandCard, PriceBook, RateCards, ReservedCard, TermDiscount
from neocloud.economics.pricebook_defaults import default_cards
from neocloud.leasing.engine import RequestError
from neocloud.services.leasing import LeasingService
from neocloud.services.pricing import PricingService
from tests.integration.stores import STORE_KINDS, store_factory

START = datetime(2027, 1, 4, tzinfo=UTC)
T0 = to_s(START)
DAY = 86_400


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def tco_fake(site: str, model: str) -> Money | None:
    """A stand-in for the cost model: the owner TCO midpoints of economics.md §6 [R1]."""
    return {"H100": usd("1.50")}.get(model)  # H200 unknown on purpose


@pytest.fixture(params=STORE_KINDS)
def world(request: pytest.FixtureRequest) -> tuple[LeasingService, PricingService, ManualClock]:
    clock = ManualClock(START)
    store = store_factory(request.param, request)()
    pricing = PricingService(store, clock, parse=cards_from_document, tco=tco_fake)
    svc = LeasingService(store, clock, pricing=pricing)
    healthy = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
    svc.init(build_fleet(preset("demo", healthy)), actor="test")
    svc.add_tenant("acme", actor="test")
    return svc, pricing, clock


def h100(gpus: int = 16, days: int = 30, start_days: int = 1, **kw: object) -> LeaseRequest:
    t0 = T0 + start_days * DAY
    return LeaseRequest("acme", Shape(("H100",), gpus=gpus, locality=Locality.BLOCK), t0, t0 + days * DAY, None, **kw)  # type: ignore[arg-type]


def h100_at(rate: str) -> RateCards:
    one = TermDiscount(0, Decimal(0))
    return RateCards(reserved=(ReservedCard("H100", usd(rate), (one,)),), on_demand=(OnDemandCard("H100", usd(rate)),))


def test_init_seeds_version_1_from_the_defaults_and_stores_it_exactly(world) -> None:
    _, pricing, _ = world
    [v1] = pricing.versions()
    assert (v1.version, v1.effective_s, v1.cards) == (1, T0, default_cards())
    assert pricing.seed("again") is None  # seeding twice publishes nothing
    assert pricing.versions() == [v1]


def test_published_versions_come_back_in_order_with_their_cards_author_and_note(world) -> None:
    _, pricing, clock = world
    v2 = pricing.publish(h100_at("4.25"), actor="ops", note="H100 up", effective_s=T0 + 10 * DAY)
    v3 = pricing.publish(h100_at("4.10"), actor="ops", note="H100 down", effective_s=T0 + 20 * DAY)
    assert [b.version for b in pricing.versions()] == [1, 2, 3]
    assert pricing.versions()[1:] == [v2, v3]
    assert (v2.author, v2.note, v2.created_s) == ("ops", "H100 up", T0)
    clock.set(datetime(2027, 1, 15, tzinfo=UTC))
    assert pricing.book_at().version == 2
    events = world[0].events(EventQuery(kind="price.published"))
    assert [(e.event.subject, e.event.actor) for e in events] == [("v1", "test"), ("v2", "ops"), ("v3", "ops")]


def test_a_bad_version_or_one_dated_in_the_past_writes_nothing(world) -> None:
    _, pricing, _ = world
    before = pricing.versions()
    with pytest.raises(RequestError, match=r"on_demand\[0\].rate: -1 USD is out of range"):
        pricing.publish(RateCards(on_demand=(OnDemandCard("H100", usd("-1")),)), actor="ops")
    with pytest.raises(RequestError, match="effective: is in the past"):
        pricing.publish(h100_at("4.25"), actor="ops", effective_s=T0 - 1)
    with pytest.raises(RequestError, match=r"reserved\[0\].discounts\[0\].discount"):
        pricing.publish_document(
            {"reserved": [{"model": "H100", "base": "3", "discounts": [{"min_term_days": 0, "discount": "1.5"}]}]},
            source="cards",
            actor="ops",
        )
    assert pricing.versions() == before


def test_a_version_number_is_written_once(world) -> None:
    svc, _, _ = world
    with pytest.raises(StoreError, match="version 1 already exists"), svc.store.writing() as writer:
        writer.publish_prices(PriceBook(1, T0, h100_at("1.00")))


def test_a_later_version_never_changes_an_existing_lease_and_a_new_quote_takes_it(world) -> None:
    svc, pricing, clock = world
    old, _ = svc.create(h100(), actor="op")
    assert (old.request.price_version, old.price_per_gpu_hour) == (1, usd("3.5910"))  # 30 days: 0.10 off 3.99
    pricing.publish(h100_at("4.25"), actor="ops", effective_s=T0 + DAY // 2)
    clock.advance(DAY // 2)
    quote = svc.quote(h100(start_days=2))
    assert (quote.request.price_version, quote.request.price_per_gpu_hour) == (2, usd("4.25"))  # type: ignore[union-attr]
    again = next(lease for lease in svc.leases() if lease.id == old.id)
    fresh = LeasingService(svc.store, clock, pricing=pricing).leases()  # read back from the store itself
    assert again.price_per_gpu_hour == usd("3.5910")
    assert again.request.price_version == 1
    assert next(x for x in fresh if x.id == old.id).request == old.request


def test_an_operators_explicit_price_is_recorded_as_an_override_without_a_version(world) -> None:
    svc, _, _ = world
    lease, quote = svc.create(replace(h100(), price_per_gpu_hour=usd("2.4975")), actor="op")
    assert (lease.price_per_gpu_hour, lease.request.price_version, lease.request.price_override) == (
        usd("2.4975"),
        None,
        True,
    )
    assert quote.total == usd(str(Decimal("2.4975") * 16 * 30 * 24))


def test_the_operator_sees_the_margin_over_tco_of_a_quote(world) -> None:
    svc, _, _ = world
    quote = svc.quote(h100(days=365))
    m = svc.quote_margin(quote)  # type: ignore[arg-type]
    assert m is not None
    assert (m.tco_per_gpu_hour, m.per_gpu_hour) == (usd("1.5000"), usd("0.8501"))  # 2.3501 one-year less 1.50
    h200 = svc.quote(replace(h100(), shape=Shape(("H200",), gpus=8)))
    assert svc.quote_margin(h200) is None  # type: ignore[arg-type] # no TCO known for H200: no margin, not a guess


def test_wholesale_sells_whole_units_and_a_gpu_count_is_refused_naming_the_tier(world) -> None:
    svc, _, _ = world
    with pytest.raises(RequestError, match="tier: wholesale sells whole units"):
        svc.quote(h100(tier=Tier.WHOLESALE))
    whole = LeaseRequest(
        "acme", Shape(("GB200",), unit=Unit.SITE, site="demo-east"), T0 + DAY, T0 + 91 * DAY, None, tier=Tier.WHOLESALE
    )
    quote = svc.quote(whole)
    assert quote.request.price_version == 1  # type: ignore[union-attr]
    assert quote.total.amount < quote.gpu_hours * quote.request.price_per_gpu_hour.amount  # type: ignore[union-attr] # the ramp


def test_a_model_the_book_does_not_price_is_refused_not_priced_by_default(world) -> None:
    svc, pricing, _ = world
    pricing.publish(h100_at("4.25"), actor="ops")  # v2 prices only H100, from now
    with pytest.raises(RequestError, match="model: price book v2 has no reserved card for H200"):
        svc.quote(replace(h100(), shape=Shape(("H200",), gpus=8)))


def test_no_book_in_force_is_not_found(world) -> None:
    _, pricing, _ = world
    with pytest.raises(NotFound, match="no price book in force"):
        pricing.book_at(T0 - 1)
