"""The SQL ledger store on SQLite and PostgreSQL: schema, round trips, the database's
own guarantees (exclusion constraint, rollback, one writer at a time), and the same
answers as the in-memory reference store."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import exc, inspect, text

from neocloud.adapters.db.codec import decode_lease, encode_lease, gpu_model_from_row, gpu_model_row
from neocloud.adapters.db.models import Base
from neocloud.adapters.db.store import SqlStore, alembic_config, open_store
from neocloud.adapters.memory import MemoryStore
from neocloud.domain.catalog import GpuModel
from neocloud.domain.changes import Change, Event, EventQuery, HealthChange, StoreError
from neocloud.domain.credits import CreditTier
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.leases import (
    MAINTENANCE_NOTICE_S,
    Amendment,
    AmendmentKind,
    Lease,
    LeaseRequest,
    LeaseState,
    Segment,
    SparePolicy,
    StateChange,
    Step,
)
from neocloud.domain.ledger import BookingConflict, Draft, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Level, Locality, Shape, Unit
from neocloud.domain.spec import GpuModelSpec, build_fleet
from neocloud.services.ports import LedgerStore
from tests.builders import a_block, a_fleet, a_group, a_node, a_site
from tests.integration.stores import store_factory

TABLES = {
    "alembic_version",
    "ledger_meta",
    "api_keys",
    "idempotency",
    "price_books",
    "invoices",
    "invoice_lines",
    "invoice_changes",
    "credit_notes",
    "credit_note_lines",
    "deposits",
    "queue_pools",
    "queue_entries",
    "studies",
    "sites",
    "pods",
    "blocks",
    "racks",
    "gpu_models",
    "nodes",
    "bookings",
    "leases",
    "tenants",
    "health_log",
    "events",
}
L, M = HolderKind.LEASE, HolderKind.MAINTENANCE


@pytest.fixture(params=["sqlite", "postgres"])
def make(request) -> object:
    return store_factory(request.param, request)


@pytest.fixture
def store(make) -> SqlStore:
    s = make()
    assert isinstance(s, SqlStore)
    s.create_schema()
    return s


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def any_store(request) -> LedgerStore:
    """Every ledger store, the in-memory one included (it journals and undoes a failed
    transaction instead of copying itself)."""
    s = store_factory(request.param, request)()
    s.create_schema()
    return s


def demo_fleet() -> Fleet:
    """The demo preset: two sites, GB200 racks and HGX nodes, some nodes not healthy."""
    return build_fleet(preset("demo"))


def imported_fleet() -> Fleet:
    """Like an imported inventory: a GPU model of its own, no power figures, nodes without racks."""
    k80 = GpuModelSpec(name="K80", gpus_per_node=8, memory_gb=12.0)
    nodes = (a_node("k1", gpu_model="K80"), a_node("k2", gpu_model="K80"), a_node("h1", gpu_count=4))
    site = a_site(
        "dc",
        power_mw=None,
        electricity_usd_per_kwh=None,
        blocks=(a_block("dc-b1", node_groups=(), nodes=nodes), a_block("dc-b2", node_groups=(a_group(count=4),))),
    )
    fleet = build_fleet(a_fleet(site, gpu_models=(k80,), name=None))
    fleet.nodes[1].health = Health.FAILED
    return fleet


def a_lease(lease_id: str = "L-1", **kw: object) -> Lease:
    request = LeaseRequest(
        "acme",
        Shape(("H100", "H200"), gpus=64, locality=Locality.BLOCK, site="s1"),
        1_000,
        90_000,
        Money(Decimal("2.350"), "EUR"),
        Decimal("99.95"),
        steps=(Step(40_000, 32),),
        spares=SparePolicy(Level.BLOCK, 1),
    )
    lease = Lease(
        lease_id,
        request,
        LeaseState.HELD,
        "H100",
        (Segment(1_000, 40_000, 64), Segment(40_000, 90_000, 32)),
        500,
        hold_expires_s=1_400,
        history=(StateChange(LeaseState.QUOTED, LeaseState.HELD, 500, "alice", "held for 15 min"),),
        degraded_nodes=("n1",),
    )
    return replace(lease, **kw)  # type: ignore[arg-type]


def same_fleet(a: Fleet, b: Fleet) -> None:
    assert b.name == a.name
    assert b.sites == a.sites
    assert b.pods == a.pods
    assert b.blocks == a.blocks
    assert b.racks == a.racks
    assert b.nodes == a.nodes
    assert b.catalog.models() == a.catalog.models()


# -- schema ------------------------------------------------------------------------------
def test_migrations_create_the_schema_and_rerunning_is_a_no_op_upgrade(store: SqlStore):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []  # the hand-written migration matches the models
    store.load_fleet(demo_fleet(), 100, "test")
    with store.writing() as w:
        w.add_tenant("acme", 100, "test")
    store.create_schema()
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    assert store.delta_since(-1).version == 1
    assert store.delta_since(-1).tenants == {"acme"}


def test_bookings_have_their_indexes_and_the_overlap_guard_of_their_database(store: SqlStore):
    with store.engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("bookings")}
        if store.dialect == "postgresql":
            found = conn.execute(
                text("SELECT conname FROM pg_constraint WHERE conrelid = 'bookings'::regclass AND contype = 'x'")
            ).scalars()
            assert list(found) == ["bookings_no_overlap"]
            definition = conn.execute(
                text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'bookings_no_overlap'")
            ).scalar_one()
            assert definition.startswith("EXCLUDE USING gist (hashtextextended((node_id)::text, (0)::bigint) WITH =")
        else:
            found = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'bookings' ORDER BY name")
            ).scalars()
            assert list(found) == ["bookings_no_overlap_insert", "bookings_no_overlap_update"]
        assert {"ix_bookings_node_start", "ix_bookings_version", "ix_bookings_holder"} <= names


def test_an_existing_database_upgrades_with_the_booking_counter_after_its_bookings(make):
    s = make()
    assert isinstance(s, SqlStore)
    cfg = alembic_config()
    with s.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    fleet = demo_fleet()
    for node in fleet.nodes:  # GPU serials came with 0006: a 0001 database has none
        node.gpu_serials = ()
    s.load_fleet(fleet, 0, "ops")
    a, b = fleet.nodes[0].id, fleet.nodes[1].id
    with s.engine.begin() as conn:  # written the way 0001's store wrote (ids from the database)
        conn.execute(text("UPDATE ledger_meta SET version = 1"))
        for node, start in ((a, 0), (b, 0), (a, 100)):
            conn.execute(
                text(
                    "INSERT INTO bookings (node_id, start_s, end_s, kind, holder, version) "
                    "VALUES (:n, :s, :s + 100, 'lease', 'old', 1)"
                ),
                {"n": node, "s": start},
            )
        old_ids = list(conn.execute(text("SELECT id FROM bookings ORDER BY id")).scalars())
    s.create_schema()
    with s.engine.connect() as conn:
        assert conn.execute(text("SELECT next_booking_id FROM ledger_meta")).scalar_one() == max(old_ids) + 1
    with pytest.raises(BookingConflict), s.writing() as w:  # the upgraded database refuses overlaps too
        w.write(Change(book=(Draft(a, 150, 250, L, "new"),)))
    with s.writing() as w:
        [booked] = w.write(Change(book=(Draft(a, 200, 300, L, "new"),)))
    assert booked.id == max(old_ids) + 1
    with s.engine.begin() as conn:  # and back down and up again
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        command.upgrade(cfg, "head")
    with s.writing() as w:
        [booked] = w.write(Change(book=(Draft(b, 100, 200, L, "new"),)))
    assert booked.id == max(old_ids) + 2


# -- what the database guarantees ----------------------------------------------------------
RAW_BOOKING = text(
    "INSERT INTO bookings (id, node_id, start_s, end_s, kind, holder, version) "
    "VALUES (:id, :n, :s, :e, 'lease', 'raw', 1)"
)


def assert_refused_as_overlap(store: SqlStore, refused: pytest.ExceptionInfo[exc.IntegrityError]) -> None:
    assert "bookings_no_overlap" in str(refused.value.orig)
    if store.dialect == "postgresql":
        assert getattr(refused.value.orig, "sqlstate", None) == "23P01"


def test_the_database_itself_refuses_an_overlapping_raw_insert(store: SqlStore):
    fleet = demo_fleet()
    store.load_fleet(fleet, 0, "ops")
    a, b = fleet.nodes[0].id, fleet.nodes[1].id
    with store.engine.begin() as conn:  # bypasses the store entirely
        conn.execute(RAW_BOOKING, {"id": 1, "n": a, "s": 0, "e": 100})
        conn.execute(RAW_BOOKING, {"id": 2, "n": a, "s": 100, "e": 200})  # adjacent: half-open intervals touch
        conn.execute(RAW_BOOKING, {"id": 3, "n": a, "s": 50, "e": 50})  # a released booking: the empty range
        conn.execute(RAW_BOOKING, {"id": 4, "n": b, "s": 50, "e": 150})  # another node
        conn.execute(RAW_BOOKING, {"id": 5, "n": a, "s": 300, "e": 400})
        conn.execute(RAW_BOOKING, {"id": 6, "n": a, "s": 250, "e": 300})  # in a gap, inserted out of order
    for start, end in ((50, 150), (0, 100), (-10, 1), (199, 201), (260, 270), (240, 500), (399, 1000)):
        with pytest.raises(exc.IntegrityError) as refused, store.engine.begin() as conn:
            conn.execute(RAW_BOOKING, {"id": 7, "n": a, "s": start, "e": end})
        assert_refused_as_overlap(store, refused)
    with store.engine.begin() as conn:
        conn.execute(RAW_BOOKING, {"id": 7, "n": a, "s": 200, "e": 250})  # exactly the gap left
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bookings")).scalar_one() == 7


def test_the_database_itself_refuses_an_update_that_makes_bookings_overlap(store: SqlStore):
    fleet = demo_fleet()
    store.load_fleet(fleet, 0, "ops")
    a, b = fleet.nodes[0].id, fleet.nodes[1].id
    with store.engine.begin() as conn:
        conn.execute(RAW_BOOKING, {"id": 1, "n": a, "s": 0, "e": 100})
        conn.execute(RAW_BOOKING, {"id": 2, "n": a, "s": 200, "e": 300})
        conn.execute(RAW_BOOKING, {"id": 3, "n": a, "s": 150, "e": 150})  # released
        conn.execute(RAW_BOOKING, {"id": 4, "n": b, "s": 0, "e": 300})
    refusals = [
        "UPDATE bookings SET end_s = 201 WHERE id = 1",  # extends into the next booking
        "UPDATE bookings SET start_s = 99 WHERE id = 2",  # starts earlier, into the previous one
        "UPDATE bookings SET end_s = 250 WHERE id = 3",  # a released booking taken back, overlapping
        "UPDATE bookings SET start_s = 50, end_s = 250 WHERE id = 3",
        "UPDATE bookings SET node_id = :b WHERE id = 1",  # moved onto a node that is taken
    ]
    for sql in refusals:
        with pytest.raises(exc.IntegrityError) as refused, store.engine.begin() as conn:
            conn.execute(text(sql), {"b": b})
        assert_refused_as_overlap(store, refused)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE bookings SET end_s = 200 WHERE id = 1"))  # up to the next one
        conn.execute(text("UPDATE bookings SET end_s = 150 WHERE id = 1"))  # a truncation
        conn.execute(text("UPDATE bookings SET end_s = 200 WHERE id = 3"))  # taken back into the free gap
        conn.execute(text("UPDATE bookings SET version = 2"))  # other columns: nothing to check
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, start_s, end_s FROM bookings WHERE node_id = :a ORDER BY id"), {"a": a})
        assert [tuple(r) for r in rows] == [(1, 0, 150), (2, 200, 300), (3, 150, 200)]


# -- fleet -------------------------------------------------------------------------------
@pytest.mark.parametrize("fleet_of", [demo_fleet, imported_fleet], ids=["demo", "imported"])
def test_the_fleet_comes_back_equal_with_its_catalog_and_order(store: SqlStore, fleet_of):
    fleet = fleet_of()
    store.load_fleet(fleet, 1_000, "ops")
    back = store.fleet()
    same_fleet(fleet, back)
    unhealthy = [n.id for n in fleet.nodes if n.health is not Health.HEALTHY]
    assert unhealthy
    log = list(store.health_log([n.id for n in fleet.nodes]))
    assert sorted(log) == sorted((n, 1_000, next(x.health for x in fleet.nodes if x.id == n)) for n in unhealthy)
    assert store.delta_since(-1).health == {n.id: n.health for n in fleet.nodes}
    assert store.delta_since(0).health == {}


def test_gpu_serials_come_back_in_index_order_and_a_node_without_them_has_none(any_store: LedgerStore):
    fleet = demo_fleet()
    fleet.nodes[1].gpu_serials = ()  # an untracked node beside tracked ones
    any_store.load_fleet(fleet, 0, "ops")
    back = {n.id: n.gpu_serials for n in any_store.fleet().nodes}
    first = fleet.nodes[0]
    assert back[first.id] == tuple(f"GPU-{first.block}-001-{g}" for g in range(first.gpu_count))
    assert back[fleet.nodes[1].id] == ()
    assert back == {n.id: n.gpu_serials for n in fleet.nodes}


def test_health_records_keep_each_reason_in_the_order_written(any_store: LedgerStore):
    fleet = demo_fleet()
    any_store.load_fleet(fleet, 0, "ops")
    node = next(n for n in fleet.nodes if n.health is Health.HEALTHY).id
    changes = [
        HealthChange(node, Health.HEALTHY, Health.FAILED, 500, "XID 79: fell off the bus"),
        HealthChange(node, Health.FAILED, Health.MAINTENANCE, 500, "RMA opened"),
        HealthChange(node, Health.MAINTENANCE, Health.HEALTHY, 900, "GPU replaced, burn-in passed"),
    ]
    for change in changes:
        with any_store.writing() as w:
            w.write(Change(health=(change,)))
    records = any_store.health_records(node)
    assert [(r.at_s, r.state, r.reason) for r in records] == [(c.at_s, c.to_state, c.reason) for c in changes]
    failed = next(n for n in fleet.nodes if n.health is Health.FAILED).id
    assert [(r.at_s, r.state, r.reason) for r in any_store.health_records(failed)] == [
        (0, Health.FAILED, "fleet loaded by ops")
    ]


def test_a_second_fleet_is_refused_and_nothing_is_written_before_one_is_loaded(store: SqlStore):
    with pytest.raises(StoreError, match="no fleet loaded"):
        store.fleet()
    with pytest.raises(StoreError, match="no fleet loaded"), store.writing():
        pass
    fleet = demo_fleet()
    store.load_fleet(fleet, 0, "ops")
    with pytest.raises(StoreError, match="already holds fleet 'demo'"):
        store.load_fleet(imported_fleet(), 0, "ops")
    same_fleet(fleet, store.fleet())


def test_custom_gpu_models_round_trip_with_every_field():
    model = GpuModel("X9", 96.5, None, 4, 120.0 / 18, 72, 2.1, ("x9-sxm", "X9 NVL"), {"tdp_w": "guess"}, False)
    assert gpu_model_from_row(gpu_model_row(model, 3)) == model


# -- leases ------------------------------------------------------------------------------
EXPLICIT_LEASES = [
    a_lease(),
    a_lease(
        "L-2",
        request=LeaseRequest("t", Shape(("GB200",), unit=Unit.NVLINK_DOMAIN, units=2), 0, 10, Money(Decimal("0"))),
        contract=(),
        hold_expires_s=None,
        history=(StateChange(None, LeaseState.QUOTED, 0, "x", ""),),
        degraded_nodes=(),
    ),
    a_lease("L-3", request=replace(a_lease().request, price_per_gpu_hour=Money(Decimal("1E+2")), spares=None)),
    a_lease("L-4", request=replace(a_lease().request, sla_availability_pct=Decimal("99.900000000000000001"))),
    a_lease(
        "L-5",
        request=replace(a_lease().request, maintenance_notice_s=3600),
        contract=(Segment(0, 50, 16),),
        amendments=(
            Amendment(AmendmentKind.EXTEND, 5, 100, "ops", "extended", (Segment(0, 100, 16),), (Segment(0, 200, 16),)),
            Amendment(
                AmendmentKind.SWAP,
                6,
                7,
                "clock",
                "node failed",
                (Segment(0, 200, 16),),
                (Segment(0, 200, 16),),
                nodes=(("n1", "n9"), ("n2", None)),
            ),
            Amendment(
                AmendmentKind.MAINTENANCE,
                8,
                20,
                "ops",
                "firmware",
                (Segment(0, 200, 16),),
                (Segment(0, 200, 16),),
                window=(20, 30),
            ),
            Amendment(AmendmentKind.TERMINATE, 9, 50, "ops", "early", (Segment(0, 200, 16),), (Segment(0, 50, 16),)),
        ),
    ),
    a_lease(
        "L-6",
        request=replace(
            a_lease().request,
            sla_credit_tiers=(CreditTier(Decimal("99.95"), Decimal("0.050")), CreditTier(Decimal("9E+1"), Decimal(1))),
            sla_credit_cap=Decimal("0.30"),
        ),
    ),
]


@pytest.mark.parametrize("lease", EXPLICIT_LEASES, ids=lambda lease: lease.id)
def test_lease_json_round_trip_explicit(lease: Lease):
    assert decode_lease(encode_lease(lease)) == lease
    assert str(decode_lease(encode_lease(lease)).request.price_per_gpu_hour.amount) == str(
        lease.request.price_per_gpu_hour.amount
    )


names = st.text(max_size=12)
seconds = st.integers(min_value=-(2**62), max_value=2**62)
finite = st.decimals(allow_nan=False, allow_infinity=False)
states = st.sampled_from(LeaseState)
shapes = st.builds(
    Shape,
    models=st.tuples(names) | st.tuples(names, names),
    gpus=st.none() | st.integers(0, 10**6),
    unit=st.none() | st.sampled_from(Unit),
    units=st.integers(0, 1000),
    locality=st.sampled_from(Locality),
    site=st.none() | names,
)
requests = st.builds(
    LeaseRequest,
    tenant=names,
    shape=shapes,
    start_s=seconds,
    end_s=seconds,
    price_per_gpu_hour=st.builds(Money, finite, st.from_regex(r"[A-Z]{3}", fullmatch=True)),
    sla_availability_pct=finite,
    steps=st.lists(st.builds(Step, seconds, st.integers(0, 10**6)), max_size=3).map(tuple),
    spares=st.none() | st.builds(SparePolicy, st.sampled_from(Level), st.integers(0, 100)),
    maintenance_notice_s=st.integers(0, 2**40),
    sla_credit_tiers=st.lists(st.builds(CreditTier, finite, finite), max_size=3).map(tuple),
    sla_credit_cap=finite,
)
contracts = st.lists(st.builds(Segment, seconds, seconds, st.integers(0, 10**6)), max_size=4).map(tuple)
amendments = st.builds(
    Amendment,
    kind=st.sampled_from(AmendmentKind),
    at_s=seconds,
    effective_s=seconds,
    actor=names,
    reason=names,
    before=contracts,
    after=contracts,
    nodes=st.lists(st.tuples(names, st.none() | names), max_size=3).map(tuple),
    window=st.none() | st.tuples(seconds, seconds),
)
leases = st.builds(
    Lease,
    id=names,
    request=requests,
    state=states,
    model=names,
    contract=contracts,
    created_s=seconds,
    hold_expires_s=st.none() | seconds,
    history=st.lists(st.builds(StateChange, st.none() | states, states, seconds, names, names), max_size=3).map(tuple),
    degraded_nodes=st.lists(names, max_size=3).map(tuple),
    amendments=st.lists(amendments, max_size=3).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(leases)
def test_lease_json_round_trip_property(lease: Lease):
    assert decode_lease(encode_lease(lease)) == lease


def test_a_lease_document_written_before_amendments_loads_with_none_and_the_default_notice():
    lease = EXPLICIT_LEASES[0]
    doc = encode_lease(lease)
    del doc["amendments"]
    del doc["request"]["maintenance_notice_s"]
    old = decode_lease(doc)
    assert old.amendments == ()
    assert old.request.maintenance_notice_s == MAINTENANCE_NOTICE_S == 7 * 86_400
    assert old == replace(lease, amendments=(), request=replace(lease.request, maintenance_notice_s=7 * 86_400))


def test_a_lease_comes_back_from_the_database_equal(store: SqlStore):
    store.load_fleet(demo_fleet(), 0, "ops")
    with store.writing() as w:
        w.write(Change(leases=tuple(EXPLICIT_LEASES)))
    with store.writing() as w:
        w.write(Change(leases=(replace(EXPLICIT_LEASES[0], state=LeaseState.CONFIRMED),)))
    assert store.delta_since(-1).leases == [
        replace(EXPLICIT_LEASES[0], state=LeaseState.CONFIRMED),
        *EXPLICIT_LEASES[1:],
    ]
    assert store.delta_since(1).leases == [replace(EXPLICIT_LEASES[0], state=LeaseState.CONFIRMED)]


def test_a_writer_knows_when_the_fleet_was_loaded_and_each_nodes_latest_health(any_store: LedgerStore):
    """What a late health report is checked against, under the write lock: the latest
    record by time (then by the order written), and the fleet's load time."""
    fleet = demo_fleet()
    healthy = next(n.id for n in fleet.nodes if n.health is Health.HEALTHY)
    unhealthy = next(n for n in fleet.nodes if n.health is not Health.HEALTHY)
    any_store.load_fleet(fleet, 1_000, "ops")
    with any_store.writing() as w:
        assert w.fleet_loaded_s == 1_000
        assert w.last_health(healthy) is None
        assert w.last_health(unhealthy.id) == (1_000, unhealthy.health)
        w.write(
            Change(
                health=(
                    HealthChange(healthy, Health.HEALTHY, Health.FAILED, 2_000, "x"),
                    HealthChange(healthy, Health.FAILED, Health.MAINTENANCE, 1_500, "older, written later"),
                    HealthChange(healthy, Health.MAINTENANCE, Health.HEALTHY, 2_000, "same second, written later"),
                )
            )
        )
        assert w.last_health(healthy) == (2_000, Health.HEALTHY)
    with any_store.writing() as w:
        assert w.last_health(healthy) == (2_000, Health.HEALTHY)


def test_an_exception_inside_writing_rolls_everything_back(any_store: LedgerStore):
    store = any_store
    fleet = demo_fleet()
    store.load_fleet(fleet, 0, "ops")
    node = fleet.nodes[0]
    change = Change(
        book=(Draft(node.id, 0, 100, L, "L-1"),),
        leases=(a_lease(),),
        health=(HealthChange(node.id, node.health, Health.FAILED, 5, "xid 79"),),
        events=(Event("lease.created", "L-1", 5, "alice", "acme", "L-1"),),
    )
    versions = []

    def fail_halfway() -> None:
        with store.writing() as w:
            w.add_tenant("acme", 0, "ops")
            versions.append(len(w.write(change)))
            versions.append(w.version)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_halfway()
    assert versions == [1, 2]
    delta = store.delta_since(-1)
    assert (delta.version, delta.bookings, delta.leases, delta.tenants) == (0, [], [], set())
    assert delta.health[node.id] is node.health
    assert store.events(EventQuery()) == []
    at_load = [] if node.health is Health.HEALTHY else [(node.id, 0, node.health)]
    assert list(store.health_log([node.id])) == at_load


def test_a_rolled_back_booking_frees_its_interval_for_the_next_writer(any_store: LedgerStore):
    store = any_store
    fleet = demo_fleet()
    store.load_fleet(fleet, 0, "ops")
    a, b = fleet.nodes[0].id, fleet.nodes[1].id
    with store.writing() as w:
        w.write(Change(book=(Draft(b, 0, 100, L, "L-0"),)))

    def clash() -> None:  # a is booked, b truncated, then b clashes: all of it undone
        with store.writing() as w:
            w.write(Change(book=(Draft(a, 0, 100, L, "L-1"),)))
            w.write(Change(truncate=((1, 50),), book=(Draft(b, 60, 70, L, "L-1"), Draft(b, 10, 20, L, "L-1"))))

    with pytest.raises(BookingConflict):
        clash()
    with store.writing() as w:
        booked = w.write(Change(book=(Draft(a, 0, 100, L, "L-2"), Draft(b, 100, 200, L, "L-2"))))
    assert [(x.node, x.holder) for x in booked] == [(a, "L-2"), (b, "L-2")]
    live = [(x.node, x.start_s, x.end_s) for x in store.delta_since(-1).bookings if x.start_s < x.end_s]
    assert sorted(live) == sorted([(b, 0, 100), (a, 0, 100), (b, 100, 200)])
    assert store.delta_since(0).version == 2


def test_both_databases_refuse_overlaps_with_the_same_conflicts(store: SqlStore):
    fleet = demo_fleet()
    memory = MemoryStore()
    a, b = fleet.nodes[0].id, fleet.nodes[1].id
    first = Change(book=(Draft(a, 0, 100, L, "L-1"), Draft(b, 0, 50, L, "L-1")), release=())
    clash = Change(
        truncate=((2, 20),),
        book=(Draft(b, 30, 40, M, "MW-1"), Draft(a, 50, 60, M, "MW-1"), Draft(b, 35, 45, M, "MW-1")),
    )
    errors = []
    for s in (store, memory):
        s.load_fleet(fleet, 0, "ops")
        with s.writing() as w:
            w.write(first)
        with pytest.raises(BookingConflict) as refused, s.writing() as w:
            w.write(clash)
        errors.append(refused.value)
        assert s.delta_since(-1).version == 1  # the truncation went back too
        assert [x.end_s for x in s.delta_since(-1).bookings] == [100, 50]
    sql, mem = errors
    assert sql.conflicts[0] == mem.conflicts[0]
    assert [(d.node, d.start_s, o.start_s, o.holder) for d, o in sql.conflicts] == [
        (a, 50, 0, "L-1"),
        (b, 35, 30, "MW-1"),
    ]
    with store.writing() as w:  # after a release the interval is free again
        w.write(Change(release=(1,)))
        [booked] = w.write(Change(book=(Draft(a, 50, 60, M, "MW-2"),)))
    assert booked.id == 3  # ids without gaps, as in the reference: the refused bookings took none


def test_a_refused_write_leaves_nothing_behind_and_the_transaction_goes_on(store: SqlStore):
    fleet = demo_fleet()
    store.load_fleet(fleet, 0, "ops")
    a, b = fleet.nodes[0].id, fleet.nodes[1].id
    with store.writing() as w:
        [first] = w.write(Change(book=(Draft(a, 0, 100, L, "L-1"),)))
        with pytest.raises(BookingConflict) as refused:  # b is inserted before a is refused
            w.write(Change(book=(Draft(b, 0, 10, L, "L-2"), Draft(a, 50, 60, L, "L-2"))))
        assert [(d.node, o) for d, o in refused.value.conflicts] == [(a, first)]
        assert w.version == 1
        [second] = w.write(Change(book=(Draft(b, 0, 10, L, "L-3"),)))
    assert (first.id, second.id) == (1, 2)
    delta = store.delta_since(-1)
    assert delta.version == 2
    assert [(x.id, x.node, x.holder) for x in delta.bookings] == [(1, a, "L-1"), (2, b, "L-3")]


def test_cutting_a_booking_that_does_not_exist_is_refused(store: SqlStore):
    fleet = demo_fleet()
    store.load_fleet(fleet, 0, "ops")
    a = fleet.nodes[0].id
    with store.writing() as w:
        w.write(Change(book=(Draft(a, 0, 100, L, "L-1"), Draft(a, 100, 200, L, "L-1"))))
    with store.writing() as w:  # the same booking cut twice is not a missing one
        w.write(Change(truncate=((1, 50),), release=(1, 2, 2)))
    assert [(x.start_s, x.end_s) for x in store.delta_since(1).bookings] == [(0, 0), (100, 100)]
    for change in (Change(release=(2, 99)), Change(truncate=((98, 5),)), Change(truncate=((1, 5),), release=(97,))):
        with pytest.raises(StoreError, match=r"no booking with id 9\d$"), store.writing() as w:
            w.write(change)
    assert store.delta_since(-1).version == 2


def test_writers_take_turns(make):
    first = make()
    assert isinstance(first, SqlStore)
    first.create_schema()
    first.load_fleet(demo_fleet(), 0, "ops")
    second = open_store(first.engine.url.render_as_string(hide_password=False))
    order: list[str] = []
    inside = threading.Event()

    def slow_writer() -> None:
        with first.writing() as w:
            inside.set()
            time.sleep(0.3)
            w.add_tenant("acme", 0, "ops")
            order.append("first commits")

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert inside.wait(10)
        with second.writing() as w:
            order.append("second starts")
            assert w.version == 1  # it waited for the first writer's commit
            assert w.delta_since(0).tenants == {"acme"}
    finally:
        thread.join()
        second.close()
    assert order == ["first commits", "second starts"]


# -- the same answers as the reference store ---------------------------------------------------
def script(s: LedgerStore, fleet: Fleet) -> None:
    """A sequence of writes touching every kind of row."""
    n = [x.id for x in fleet.nodes]
    s.load_fleet(fleet, 10, "ops")
    with s.writing() as w:
        w.add_tenant("acme", 10, "ops")
        w.add_tenant("globex", 11, "ops")
    with s.writing() as w:
        w.write(
            Change(
                book=(
                    Draft(n[0], 100, 200, L, "L-1"),
                    Draft(n[1], 100, 200, L, "L-1"),
                    Draft(n[0], 200, 300, L, "L-2"),
                ),
                leases=(a_lease("L-1"), a_lease("L-2", request=replace(a_lease().request, tenant="globex"))),
                health=(HealthChange(n[2], fleet.nodes[2].health, Health.FAILED, 120, "xid 79"),),
                events=(
                    Event("lease.created", "L-1", 100, "alice", "acme", "L-1", after={"state": "held", "gpus": 16}),
                    Event("lease.created", "L-2", 101, "bob", "globex", "L-2"),
                    Event("node.health", n[2], 120, "ops", node=n[2], before={"health": "healthy"}),
                ),
            )
        )
        w.write(
            Change(
                truncate=((1, 150),),
                release=(2,),
                leases=(a_lease("L-1", state=LeaseState.CANCELLED),),
                health=(
                    HealthChange(n[2], Health.FAILED, Health.MAINTENANCE, 130, "repair"),
                    HealthChange(n[3], fleet.nodes[3].health, Health.DEGRADED, 125, "ecc"),
                ),
                events=(
                    Event(
                        "lease.cancelled",
                        "L-1",
                        130,
                        "alice",
                        "acme",
                        "L-1",
                        before={"state": "held"},
                        after={"a": [1, 2]},
                    ),
                    Event("LEASE.shouting", "x", 131, "eve"),
                ),
            )
        )
    with s.writing() as w:
        w.add_tenant("acme", 140, "ops")  # again: a new version, like the reference
        w.write(Change(book=(Draft(n[1], 150, 250, M, "MW-1"),)))


QUERIES = [
    EventQuery(),
    EventQuery(lease_id="L-1"),
    EventQuery(tenant="globex"),
    EventQuery(kind="lease."),
    EventQuery(kind="lease.c"),
    EventQuery(kind="LEASE"),
    EventQuery(kind=""),
    EventQuery(since_s=101, until_s=131),
    EventQuery(after_seq=2, limit=2),
    EventQuery(limit=0),
]


def test_the_same_writes_give_the_same_answers_as_the_memory_store(store: SqlStore):
    fleet = build_fleet(preset("demo", {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}))
    ours, reference = store, MemoryStore()
    for s in (ours, reference):
        script(s, fleet)
    for since in range(-1, 8):
        a, b = ours.delta_since(since), reference.delta_since(since)
        assert a == b, since
    for q in [*QUERIES, EventQuery(node=fleet.nodes[2].id), EventQuery(node=fleet.nodes[2].id, kind="lease")]:
        assert ours.events(q) == reference.events(q), q
    nodes = [x.id for x in fleet.nodes[:5]]
    assert list(ours.health_log(nodes)) == list(reference.health_log(nodes))
    for node in nodes:
        assert ours.health_records(node) == reference.health_records(node)
    same_fleet(reference.fleet(), ours.fleet())
    with ours.writing() as w, reference.writing() as r:
        assert w.version == r.version == 6
        assert w.delta_since(3) == r.delta_since(3)


# -- opening ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:secret@db/x", r"unsupported database URL 'mysql://u:\*\*\*@db/x' \(database kind 'mysql'\)"),
        ("postgresql+psycopg2://u@db/x", r"driver 'psycopg2' for postgresql.*postgresql\+psycopg://"),
        ("postgresql://u@db", "names no database"),
        ("sqlite://", "give the path of a SQLite file"),
        ("sqlite:///:memory:", "in-memory database"),
        ("sqlite:////no/such/folder/x.db", "folder '/no/such/folder' does not exist"),
        ("ledger.db", "is not a URL; supported: sqlite:///"),
    ],
    ids=["mysql", "pg-driver", "pg-no-database", "empty-path", "in-memory", "missing-folder", "not-a-url"],
)
def test_bad_database_urls_are_refused_with_the_url_and_the_supported_forms(url: str, message: str):
    with pytest.raises(StoreError, match=message) as refused:
        open_store(url)
    assert "sqlite:///" in str(refused.value) or "folder" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_a_database_without_the_schema_says_so(make):
    s = make()
    with pytest.raises(StoreError, match="no neocloud schema here"):
        s.delta_since(-1)


def test_api_keys_are_stored_as_hashes_listed_and_revoked(store: SqlStore):
    from neocloud.domain.access import ApiKey, Role, hash_secret

    store.load_fleet(demo_fleet(), 0, "test")
    key = ApiKey("k1", hash_secret("s3cret"), Role.TENANT, "acme", 100, "op", "ci")
    with store.writing() as w:
        w.add_key(key)
    assert store.get_key("k1") == key
    assert store.get_key("nope") is None
    assert [k.id for k in store.list_keys()] == ["k1"]
    with store.writing() as w:
        revoked = w.revoke_key("k1", 200)
        assert revoked is not None
        assert revoked.revoked_s == 200
        assert w.revoke_key("k1", 300).revoked_s == 200  # type: ignore[union-attr]
        assert w.revoke_key("nope", 300) is None
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_sha256 FROM api_keys").scalar_one()
    assert "s3cret" not in stored


def test_the_database_refuses_a_second_result_for_one_idempotency_key(store: SqlStore):
    from neocloud.domain.changes import IdempotentResult

    store.load_fleet(demo_fleet(), 0, "test")
    first = IdempotentResult("h1", 201, '{"id": "L-1"}', 10)
    with store.writing() as w:
        assert w.result("key-a", "idem-1") is None
        w.keep_result("key-a", "idem-1", first)
        assert w.result("key-a", "idem-1") == first
    with pytest.raises(StoreError, match="Idempotency-Key 'idem-1' already holds a result"), store.writing() as w:
        w.keep_result("key-a", "idem-1", IdempotentResult("h2", 201, "{}", 11))
    with store.writing() as w:
        assert w.result("key-a", "idem-1") == first
        assert w.result("key-b", "idem-1") is None
