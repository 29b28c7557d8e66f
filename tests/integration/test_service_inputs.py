"""The input rules as the services apply them, on every store: tenant names unique
regardless of case among the stored tenants, health-change times, the lease-date
horizon, key labels, and the operator's settings from the environment. Refused input
writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neocloud.adapters.memory import MemoryStore
from neocloud.domain.access import Role
from neocloud.domain.changes import EventQuery
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import MAX_HORIZON_S, LeaseRequest, Terms
from neocloud.domain.money import Money
from neocloud.domain.shape import Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import RequestError
from neocloud.services.access import KeyService
from neocloud.services.leasing import LeasingService
from neocloud.services.ports import LedgerStore
from neocloud.services.settings import SettingError, settings_from
from tests.builders import a_fleet
from tests.integration.stores import STORE_KINDS, store_factory
from tests.unit.test_input_rules import tenant_names

START = datetime(2027, 1, 4, tzinfo=UTC)
HOUR = 3600
DAY = 86_400


def a_service(store: LedgerStore, clock: ManualClock | None = None, **kw: object) -> LeasingService:
    svc = LeasingService(store, clock or ManualClock(START), **kw)  # type: ignore[arg-type]
    svc.init(build_fleet(a_fleet()), actor="test")
    return svc


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest) -> LedgerStore:
    return store_factory(request.param, request)()


def written(svc: LeasingService) -> list[tuple[str, str]]:
    return [(e.event.kind, e.event.subject) for e in svc.events(EventQuery(limit=10_000))]


# -- tenant names ------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tenant_names, min_size=1, max_size=6, unique_by=str.lower))
def test_any_accepted_tenant_name_round_trips_and_its_case_twins_are_refused(names: list[str]) -> None:
    store = MemoryStore()
    svc = a_service(store)
    for name in names:
        svc.add_tenant(name, actor="test")
    assert svc.tenants() == set(names)
    another_process = LeasingService(store, ManualClock(START))  # a fresh cache: the rule reads what is stored
    for name in names:
        for twin in {name, name.swapcase(), name.upper()}:
            with pytest.raises(RequestError, match="already exists"):
                another_process.add_tenant(twin, actor="test")
    assert another_process.tenants() == set(names)


def test_a_case_twin_is_refused_on_every_store_and_writes_nothing(store: LedgerStore) -> None:
    svc = a_service(store)
    svc.add_tenant("acme-ai", actor="test")
    before = written(svc)
    fresh = LeasingService(store, ManualClock(START))
    with pytest.raises(RequestError, match=r"name: tenant 'ACME-AI' already exists as 'acme-ai'"):
        fresh.add_tenant("ACME-AI", actor="test")
    assert fresh.tenants() == {"acme-ai"}
    assert written(fresh) == before


@pytest.mark.parametrize("bad", ["", " acme", "acme\x00", "ac\u202eme", "x" * 100_000, "acme\nbeta"])
def test_a_bad_tenant_name_is_refused_and_writes_nothing(bad: str) -> None:
    svc = a_service(MemoryStore())
    before = written(svc)
    with pytest.raises(RequestError) as refused:
        svc.add_tenant(bad, actor="test")
    assert refused.value.problems[0].startswith("name: ")
    assert svc.tenants() == set()
    assert written(svc) == before


# -- health-change times ---------------------------------------------------------------------------
def node_of(svc: LeasingService) -> str:
    return svc.fleet().nodes[0].id


@pytest.mark.parametrize(
    ("offset_s", "problem"),
    [(HOUR, "is in the future"), (-365 * DAY, "more than 3 days ago"), (-(3 * DAY + 1), "more than 3 days ago")],
)
def test_a_health_change_dated_in_the_future_or_long_ago_is_refused_and_writes_nothing(
    store: LedgerStore, offset_s: int, problem: str
) -> None:
    svc = a_service(store)
    node = node_of(svc)
    before = written(svc)
    with pytest.raises(RequestError, match=f"at: .* {problem}"):
        svc.set_health(node, Health.FAILED, at_s=to_s(START) + offset_s, actor="ops", reason="xid 79")
    assert svc.fleet().nodes[0].health is Health.HEALTHY
    assert written(svc) == before
    assert list(store.health_log([node])) == []


def test_a_health_change_may_be_dated_back_within_the_configured_window() -> None:
    svc = a_service(MemoryStore(), health_backdate_s=2 * HOUR)
    svc.clock.advance(seconds=4 * HOUR)  # type: ignore[attr-defined] # not before the fleet was loaded
    node, now = node_of(svc), to_s(START) + 4 * HOUR
    with pytest.raises(RequestError, match="more than 2 hours ago"):
        svc.set_health(node, Health.FAILED, at_s=now - 3 * HOUR, actor="ops", reason="x")
    change = svc.set_health(node, Health.FAILED, at_s=now - HOUR, actor="ops", reason="x")
    assert change.health[0].at_s == now - HOUR


def test_a_health_reason_is_a_bounded_note() -> None:
    svc = a_service(MemoryStore())
    with pytest.raises(RequestError, match="reason: 200,001 characters; at most 200"):
        svc.set_health(node_of(svc), Health.FAILED, at_s=None, actor="ops", reason="x" * 200_001)
    with pytest.raises(RequestError, match=r"reason: contains U\+0000"):
        svc.set_health(node_of(svc), Health.FAILED, at_s=None, actor="ops", reason="psu\x00")


# -- the lease-date horizon --------------------------------------------------------------------------
def test_extend_and_maintenance_beyond_the_horizon_are_refused(store: LedgerStore) -> None:
    svc = a_service(store)
    svc.add_tenant("acme", actor="test")
    t0 = to_s(START) + DAY
    lease, _ = svc.create(LeaseRequest("acme", Shape(("H100",), gpus=8), t0, t0 + DAY, Money(Decimal(2))), actor="op")
    before = written(svc)
    too_far = to_s(START) + MAX_HORIZON_S + 1
    with pytest.raises(RequestError, match=r"end: .* is more than 10 years ahead"):
        svc.extend(lease.id, too_far, actor="op")
    with pytest.raises(RequestError, match=r"end: .* is more than 10 years ahead"):
        svc.maintenance(node_of(svc), t0 + 2 * DAY, too_far, actor="op")
    assert svc.show(lease.id).lease.end_s == t0 + DAY
    assert written(svc) == before


# -- key labels --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("label", "problem"), [("x" * 200_000, "200,000 characters"), ("ci\x00", r"U\+0000")])
def test_a_bad_key_label_is_refused_and_no_key_is_stored(label: str, problem: str) -> None:
    store = MemoryStore()
    keys = KeyService(store, ManualClock(START))
    with pytest.raises(RequestError, match=f"label: .*{problem}"):
        keys.create(role=Role.OPERATOR, tenant=None, actor="ops", known_tenants=set(), label=label)
    assert keys.list() == []


# -- settings ----------------------------------------------------------------------------------------
def test_settings_default_to_the_list_price_the_sla_and_three_days() -> None:
    found = settings_from({})
    assert found.terms == Terms(Money(Decimal("2.35"), "USD"), Decimal("99.0"))
    assert found.health_backdate_s == 3 * DAY


def test_settings_come_from_the_environment() -> None:
    found = settings_from(
        {"NEOCLOUD_LIST_PRICE": "3.10 EUR", "NEOCLOUD_DEFAULT_SLA": "99.5", "NEOCLOUD_HEALTH_BACKDATE_HOURS": "12"}
    )
    assert found.terms == Terms(Money(Decimal("3.10"), "EUR"), Decimal("99.5"))
    assert found.health_backdate_s == 12 * HOUR


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"NEOCLOUD_LIST_PRICE": "1e999"}, "price: 1E+999 USD is out of range"),
        ({"NEOCLOUD_LIST_PRICE": "0"}, "price: 0 USD is out of range"),
        ({"NEOCLOUD_LIST_PRICE": "cheap"}, "NEOCLOUD_LIST_PRICE: price 'cheap'"),
        ({"NEOCLOUD_DEFAULT_SLA": "101"}, "sla: availability must be above 0"),
        ({"NEOCLOUD_HEALTH_BACKDATE_HOURS": "-1"}, "NEOCLOUD_HEALTH_BACKDATE_HOURS='-1'"),
        ({"NEOCLOUD_HEALTH_BACKDATE_HOURS": "9" * 5000}, "give whole hours from 0 to 720"),
    ],
)
def test_a_bad_setting_names_the_variable(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingError) as bad:
        settings_from(env)
    assert problem in str(bad.value)
    assert "NEOCLOUD_" in str(bad.value)


def test_events_after_the_largest_sequence_number_are_none_on_every_store(store: LedgerStore) -> None:
    """The dashboard's events page passes ``after`` through; SQLite cannot bind more than 2**63 - 1."""
    svc = a_service(store)
    svc.add_tenant("acme", actor="test")
    assert svc.events(EventQuery(after_seq=2**63 - 1)) == []
    assert svc.events(EventQuery(after_seq=2**64)) == []
    assert svc.events(EventQuery(after_seq=0))
