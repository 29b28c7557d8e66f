"""The one conversion of ledger leases to contracts, on the in-memory demo."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud import bootstrap
from neocloud.domain.clock import ManualClock
from neocloud.domain.leases import Lease, LeaseState, Tier
from neocloud.economics.deal import schedule
from neocloud.services.container import Services
from neocloud.services.deals import lease_contract
from neocloud.services.demo import build_demo


@pytest.fixture(scope="module")
def demo() -> Services:
    services = bootstrap.in_memory(ManualClock(datetime(2027, 1, 4, tzinfo=UTC)))
    build_demo(services)
    return services


def _lease(services: Services, tenant: str) -> Lease:
    return next(le for le in services.leasing.leases() if le.tenant == tenant)


def test_a_lease_pays_its_price_on_its_contracted_gpu_hours(demo: Services) -> None:
    contracts = {c.id: c for c in demo.deals.contracts()}
    for lease in demo.leasing.leases():
        if lease.request.tier is Tier.WHOLESALE:
            continue  # a monthly fee with a ramp (the test below)
        c = contracts[lease.id]
        gpu_hours = sum(Decimal(s.gpus * (s.end_s - s.start_s)) / 3600 for s in lease.contract)
        lines = schedule(c)
        revenue = sum(ln.fee.amount for ln in lines)
        # each month's fee is rounded once to the cent: at most half a cent per line
        assert abs(revenue - lease.price_per_gpu_hour.amount * gpu_hours) <= Decimal("0.005") * len(lines)


def test_a_lease_with_steps_becomes_one_tranche_per_contract_segment(demo: Services) -> None:
    stepped = _lease(demo, "globex-research")
    c = next(c for c in demo.deals.contracts() if c.id == stepped.id)
    assert [(t.gpus, t.start_s, t.end_s) for t in c.tranches] == [
        (s.gpus, s.start_s, s.end_s) for s in stepped.contract
    ]
    assert c.gpus_by_model() == {"H200": 192}


def test_confirmed_and_active_leases_are_take_or_pay_and_a_hold_is_not(demo: Services) -> None:
    by_state = {c.id: c.take_or_pay for c in demo.deals.contracts()}
    for lease in demo.leasing.leases():
        assert by_state[lease.id] is (lease.state in {LeaseState.CONFIRMED, LeaseState.ACTIVE}), lease.state
    assert not by_state[_lease(demo, "initech").id]


@pytest.mark.parametrize("tier", [Tier.ON_DEMAND, Tier.SPOT])
def test_a_confirmed_lease_on_an_uncommitted_tier_is_not_take_or_pay(demo: Services, tier: Tier) -> None:
    lease = _lease(demo, "acme-ai")
    assert lease.state in {LeaseState.CONFIRMED, LeaseState.ACTIVE}
    committed = lease_contract(lease, Counter({("demo-west", "H100"): 128}))
    uncommitted = replace(lease, request=replace(lease.request, tier=tier))
    assert committed.take_or_pay
    assert not lease_contract(uncommitted, Counter({("demo-west", "H100"): 128})).take_or_pay


def test_the_site_and_models_come_from_the_leases_nodes(demo: Services) -> None:
    whole = _lease(demo, "frontier-lab")
    c = next(c for c in demo.deals.contracts() if c.id == whole.id)
    assert c.site == "demo-east"
    assert c.gpus_by_model() == {"GB200": whole.gpus}


def test_a_multi_model_lease_splits_its_gpus_in_proportion_to_its_nodes(demo: Services) -> None:
    lease = _lease(demo, "acme-ai")
    c = lease_contract(lease, Counter({("demo-west", "H100"): 96, ("demo-west", "H200"): 32}))
    assert c.gpus_by_model() == {"H100": 96, "H200": 32}
    assert sum(t.gpus for t in c.tranches) == lease.gpus


def test_a_split_that_does_not_divide_evenly_keeps_every_gpu(demo: Services) -> None:
    lease = _lease(demo, "acme-ai")  # 128 GPUs
    c = lease_contract(lease, Counter({("demo-west", "H100"): 8, ("demo-west", "H200"): 16}))
    assert c.gpus_by_model() == {"H100": 42, "H200": 86}  # 128/3 and 256/3, the remainder to the larger


def test_a_wholesale_lease_in_the_book_pays_its_cards_ramp_not_its_average_rate(demo: Services) -> None:
    whole = _lease(demo, "frontier-lab")
    assert whole.request.price_version is not None
    c = next(c for c in demo.deals.contracts() if c.id == whole.id)
    assert c.monthly_fee is not None, c
    assert c.ramp, c
    fees = [ln.fee.amount for ln in schedule(c)]
    assert fees[0] < fees[2]  # the ramp's reduced months
    assert fees[1] < fees[2]
    assert demo.leasing.pricing is not None
    charged = demo.leasing.pricing.repriced(whole.request, {"GB200": whole.gpus}, whole.contract).total.amount
    # the price book counts 730.5-hour contract months, the contract calendar months:
    # over one year they differ by under 0.1%, where the average rate overstated it by 6%
    assert abs(sum(fees) - charged) / charged < Decimal("0.002")
