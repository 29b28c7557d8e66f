"""``neocloud_lease_*`` gauges on ``/metrics``: per live lease, GPUs contracted and
delivered-healthy now and the billing period's availability so far, so that alerting
sees an SLA breach building before the invoice does (issue 11, section 3)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from neocloud.domain.clock import to_s
from neocloud.domain.health import Health
from neocloud.domain.ledger import HolderKind
from tests.api.conftest import World

DAY = 86_400


def _gauges(world: World) -> dict[str, dict[str, float]]:
    text = world.client.get("/metrics", headers=world.auth("operator")).text
    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):  # the exposition format parses
        if family.name.startswith("neocloud_lease_"):
            for sample in family.samples:
                out.setdefault(sample.name, {})[sample.labels["lease"]] = sample.value
                assert sample.labels["tenant"]
    return out


def _down_gpus(world: World, lease_id: str) -> int:
    leasing = world.services.leasing
    health = {n.id: n for n in leasing.fleet().nodes}
    now = to_s(world.clock.now())
    booked = {
        b.node for b in leasing.show(lease_id).bookings if b.kind is HolderKind.LEASE and b.start_s <= now < b.end_s
    }
    return sum(health[n].gpu_count for n in booked if health[n].health is not Health.HEALTHY)


def test_a_degraded_lease_shows_its_breach_building_in_the_period_so_far(world: World) -> None:
    world.clock.advance(days=1)
    gauges = _gauges(world)
    (whole,) = [le for le in world.services.leasing.leases() if le.tenant == "frontier-lab"]
    down = _down_gpus(world, whole.id)
    assert down > 0  # the demo's whole-site lease has a failed node without replacement
    contracted = gauges["neocloud_lease_contracted_gpus"][whole.id]
    assert contracted == whole.gpus
    assert gauges["neocloud_lease_delivered_gpus"][whole.id] == contracted - down
    running = to_s(world.clock.now()) - whole.start_s
    assert gauges["neocloud_lease_shortfall_gpu_seconds"][whole.id] == down * running
    assert gauges["neocloud_lease_availability_ratio"][whole.id] == (contracted - down) / contracted
    assert gauges["neocloud_lease_availability_ratio"][whole.id] < gauges["neocloud_lease_sla_target_ratio"][whole.id]


def test_a_lease_healed_from_its_spare_is_whole_and_only_live_leases_are_exported(world: World) -> None:
    world.clock.advance(days=1)
    gauges = _gauges(world)
    leases = {le.tenant: le for le in world.services.leasing.leases()}
    acme = leases["acme-ai"]
    assert gauges["neocloud_lease_availability_ratio"][acme.id] == 1.0
    assert gauges["neocloud_lease_shortfall_gpu_seconds"][acme.id] == 0
    assert gauges["neocloud_lease_sla_target_ratio"][acme.id] == 0.99
    # a hold and a lease that starts in two weeks deliver nothing yet: not exported
    assert set(gauges["neocloud_lease_contracted_gpus"]) == {acme.id, leases["frontier-lab"].id}


def test_a_failure_during_the_period_lowers_availability_from_when_it_happened(world: World) -> None:
    world.clock.advance(days=1)
    leasing = world.services.leasing
    whole = next(le for le in leasing.leases() if le.tenant == "frontier-lab")
    before = _gauges(world)
    down_before = _down_gpus(world, whole.id)
    healthy = {n.id: n for n in leasing.fleet().nodes if n.health is Health.HEALTHY}
    node = next(b.node for b in leasing.show(whole.id).bookings if b.node in healthy)
    leasing.set_health(node, Health.FAILED, at_s=None, actor="test", reason="Xid 79")  # a whole site: no spare
    world.clock.advance(days=1)
    after = _gauges(world)
    lost = healthy[node].gpu_count
    assert after["neocloud_lease_delivered_gpus"][whole.id] == before["neocloud_lease_delivered_gpus"][whole.id] - lost
    grown = (
        after["neocloud_lease_shortfall_gpu_seconds"][whole.id]
        - before["neocloud_lease_shortfall_gpu_seconds"][whole.id]
    )
    assert grown == (down_before + lost) * DAY
    assert after["neocloud_lease_availability_ratio"][whole.id] < before["neocloud_lease_availability_ratio"][whole.id]
