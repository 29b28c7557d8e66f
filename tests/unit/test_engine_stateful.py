"""Hypothesis drives the engine with random lease and node operations against a
simple reference model, and checks the ledger's invariants after every step."""

from __future__ import annotations

import itertools
from decimal import Decimal

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from neocloud.domain.errors import DomainError
from neocloud.domain.health import Health
from neocloud.domain.leases import FINAL_STATES, LeaseRequest, LeaseState
from neocloud.domain.ledger import HolderKind, Ledger
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import Engine
from neocloud.placement.snapshot import HEALTHY_CODE, build_snapshot
from tests.builders import a_block, a_fleet, a_group, a_site

HOUR = 3600
T0 = 1_800_000_000
H = Health

# Reference lifecycle: what state each operation leads to, if it is allowed at all.
REF_CONFIRM = {LeaseState.HELD: LeaseState.CONFIRMED}
REF_CANCEL = {LeaseState.HELD: LeaseState.CANCELLED, LeaseState.CONFIRMED: LeaseState.CANCELLED}


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        group = a_group(count=8, nodes_per_rack=8, rack_power_kw=85.0)
        blocks = (a_block("b1", node_groups=(group,)), a_block("b2", node_groups=(group,)))
        snap = build_snapshot(build_fleet(a_fleet(a_site(blocks=blocks, power_mw=1.0))))
        self.engine = Engine(snap, Ledger(snap.node_ids))
        self.now = T0
        self.count = 0
        self.ref: dict[str, LeaseState] = {}
        self.holds: dict[str, int] = {}

    def _apply(self, change) -> None:
        self.engine.apply(change)
        for lease in change.leases:
            if lease.id in self.ref and self.ref[lease.id] != lease.state:
                self.ref[lease.id] = lease.state  # the clock moved it; checked in tick()

    @rule(
        gpus=st.sampled_from([8, 16, 32, 64, 96]),
        start_h=st.integers(0, 48),
        hours=st.integers(1, 96),
        hold=st.booleans(),
        locality=st.sampled_from([Locality.BLOCK, Locality.ANYWHERE]),
    )
    def create(self, gpus: int, start_h: int, hours: int, hold: bool, locality: Locality) -> None:
        start = self.now + start_h * HOUR + 1
        request = LeaseRequest(
            "t", Shape(("H100",), gpus=gpus, locality=locality), start, start + hours * HOUR, Money(Decimal(2))
        )
        self.count += 1
        lease_id = f"L{self.count}"
        try:
            _lease, change = self.engine.create(
                request, lease_id=lease_id, now_s=self.now, actor="h", hold_s=HOUR if hold else None
            )
        except DomainError:
            return
        self._apply(change)
        self.ref[lease_id] = LeaseState.HELD if hold else LeaseState.CONFIRMED
        if hold:
            self.holds[lease_id] = self.now + HOUR

    def _pick(self, data: st.DataObject) -> str | None:
        if not self.ref:
            return None
        return data.draw(st.sampled_from(sorted(self.ref)))

    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        lease_id = self._pick(data)
        if lease_id is None:
            return
        expected = REF_CONFIRM.get(self.ref[lease_id])
        if expected and self.now >= self.holds.get(lease_id, 2**62):
            expected = None  # the hold ran out
        try:
            self._apply(self.engine.confirm(lease_id, now_s=self.now, actor="h"))
        except DomainError:
            assert expected is None
            return
        assert expected is not None
        self.ref[lease_id] = expected

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        lease_id = self._pick(data)
        if lease_id is None:
            return
        expected = REF_CANCEL.get(self.ref[lease_id])
        try:
            self._apply(self.engine.cancel(lease_id, now_s=self.now, actor="h"))
        except DomainError:
            assert expected is None
            return
        assert expected is not None
        self.ref[lease_id] = expected
        assert self.engine.lease_nodes(lease_id) == []

    @rule(data=st.data(), hours=st.integers(1, 48), swap=st.booleans())
    def extend(self, data: st.DataObject, hours: int, swap: bool) -> None:
        lease_id = self._pick(data)
        if lease_id is None:
            return
        lease = self.engine.lease(lease_id)
        try:
            self._apply(
                self.engine.extend(lease_id, lease.end_s + hours * HOUR, now_s=self.now, actor="h", allow_swap=swap)
            )
        except DomainError:
            return
        assert lease.state not in FINAL_STATES
        assert self.engine.lease(lease_id).end_s == lease.end_s + hours * HOUR

    @rule(data=st.data())
    def shrink(self, data: st.DataObject) -> None:
        lease_id = self._pick(data)
        if lease_id is None:
            return
        lease = self.engine.lease(lease_id)
        at = max(self.now, lease.start_s)
        try:
            self._apply(self.engine.shrink(lease_id, 8, from_s=at, now_s=self.now, actor="h"))
        except DomainError:
            return
        assert self.engine.lease(lease_id).contracted_at(at) == 8

    @rule(data=st.data())
    def terminate(self, data: st.DataObject) -> None:
        lease_id = self._pick(data)
        if lease_id is None:
            return
        was = self.ref[lease_id]
        try:
            self._apply(self.engine.terminate(lease_id, at_s=self.now, now_s=self.now, actor="h"))
        except DomainError:
            assert was is not LeaseState.ACTIVE or self.engine.lease(lease_id).end_s <= self.now
            return
        assert was is LeaseState.ACTIVE
        self.ref[lease_id] = LeaseState.TERMINATED

    @rule(hours=st.integers(1, 30))
    def tick(self, hours: int) -> None:
        self.now += hours * HOUR
        change = self.engine.tick(self.now)
        self.engine.apply(change)
        for lease_id, state in list(self.ref.items()):
            lease = self.engine.lease(lease_id)
            if state is LeaseState.HELD and self.now >= self.holds[lease_id]:
                assert lease.state is LeaseState.EXPIRED
            elif state is LeaseState.CONFIRMED and self.now >= lease.end_s:
                assert lease.state is LeaseState.ENDED
            elif state is LeaseState.CONFIRMED and self.now >= lease.start_s:
                assert lease.state is LeaseState.ACTIVE
            elif state is LeaseState.ACTIVE and self.now >= lease.end_s:
                assert lease.state is LeaseState.ENDED
            self.ref[lease_id] = lease.state

    @rule(data=st.data(), state=st.sampled_from([H.FAILED, H.HEALTHY, H.DEGRADED, H.MAINTENANCE]))
    def health(self, data: st.DataObject, state: Health) -> None:
        node = data.draw(st.sampled_from(self.engine.snap.node_ids))
        try:
            self._apply(self.engine.set_health(node, state, at_s=self.now, now_s=self.now, actor="h", reason="r"))
        except DomainError:
            return

    @precondition(lambda self: hasattr(self, "engine"))
    @rule(data=st.data(), start_h=st.integers(0, 24), hours=st.integers(1, 24))
    def maintenance(self, data: st.DataObject, start_h: int, hours: int) -> None:
        node = data.draw(st.sampled_from(self.engine.snap.node_ids))
        start = self.now + start_h * HOUR
        try:
            self._apply(
                self.engine.maintenance(
                    node, start_s=start, end_s=start + hours * HOUR, now_s=self.now, actor="h", window_id=f"mw{start}"
                )
            )
        except DomainError:
            return

    @invariant()
    def no_node_is_held_twice_at_once(self) -> None:
        if not hasattr(self, "engine"):
            return
        per_node: dict[str, list[tuple[int, int]]] = {}
        for b in self.engine.ledger.bookings():
            per_node.setdefault(b.node, []).append((b.start_s, b.end_s))
        for spans in per_node.values():
            spans.sort()
            for (_, e1), (s2, _) in itertools.pairwise(spans):
                assert e1 <= s2

    @invariant()
    def states_match_the_reference(self) -> None:
        for lease_id, state in getattr(self, "ref", {}).items():
            assert self.engine.lease(lease_id).state is state

    @invariant()
    def live_leases_hold_their_contract_from_now_on(self) -> None:
        if not hasattr(self, "engine"):
            return
        for lease in self.engine.leases.values():
            if lease.state not in (LeaseState.HELD, LeaseState.CONFIRMED, LeaseState.ACTIVE):
                continue
            t = max(self.now, lease.start_s)
            if t >= lease.end_s:
                continue
            held = sum(
                8 for b in self.engine.lease_nodes(lease.id) if b.kind is HolderKind.LEASE and b.start_s <= t < b.end_s
            )
            assert held == lease.contracted_at(t), (lease.id, held, lease.contracted_at(t))

    @invariant()
    def released_leases_hold_nothing_in_the_future(self) -> None:
        if not hasattr(self, "engine"):
            return
        for lease in self.engine.leases.values():
            if lease.state in (LeaseState.CANCELLED, LeaseState.EXPIRED):
                assert self.engine.lease_nodes(lease.id) == []

    @invariant()
    def health_array_is_consistent(self) -> None:
        if hasattr(self, "engine"):
            assert ((self.engine.health >= 0) & (self.engine.health < 5)).all()
            _ = HEALTHY_CODE


LedgerMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerMachine = LedgerMachine.TestCase
