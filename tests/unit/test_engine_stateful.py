"""Hypothesis drives the engine with random lease and node operations against a
simple reference model, and checks the ledger's invariants after every step.

No rule swallows a refusal unchecked: each refusal is compared with what a brute
force over the reference model says (a request refused for capacity really does not
fit; an extension of free nodes, a legal health move or a valid shrink is never
refused), and every booking a change makes is checked against the reference health
of its node.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from neocloud.domain.changes import Change
from neocloud.domain.errors import DomainError
from neocloud.domain.health import TRANSITIONS, Health
from neocloud.domain.leases import (
    FINAL_STATES,
    LIVE_STATES,
    AmendmentKind,
    LeaseRequest,
    LeaseState,
    Segment,
    replay_contract,
)
from neocloud.domain.ledger import HolderKind
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import Engine, Unplaceable
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
        self.engine = Engine.of_fleet(build_fleet(a_fleet(a_site(blocks=blocks, power_mw=1.0))))
        self.now = T0
        self.count = 0
        self.ref: dict[str, LeaseState] = {}
        self.holds: dict[str, int] = {}
        self.health_ref = dict.fromkeys(self.engine.snap.node_ids, H.HEALTHY)
        self.failed_since: dict[str, int] = {}  # node -> when it failed (reference)
        self.booked_on_unhealthy: list[tuple[str, str]] = []
        self.booked: dict[str, tuple[Segment, ...]] = {}  # lease -> the contract it was booked with

    def _apply(self, change: Change, amended: AmendmentKind | None = None) -> None:
        """Apply ``change``; ``amended``: the one amendment the operation must add to its
        lease (a swap adds one per ``lease.swapped`` event, checked for every change)."""
        leases = self.engine.view.leases
        counts = {lease_id: len(lease.amendments) for lease_id, lease in leases.items()}
        booked = self.engine.apply(change)
        self._check_amendments(change, counts, amended)
        for b in booked:  # every node a change newly places lands on a node healthy at that moment
            if self.health_ref[b.node] is H.HEALTHY or b.kind not in (HolderKind.LEASE, HolderKind.SPARE):
                continue
            before = self.engine.view.ledger.overlapping(b.node, b.start_s - 1, b.start_s)
            if any(o.holder == b.holder and o.end_s == b.start_s for o in before):
                continue  # an extension continues the lease's own node (a failed one stays a deficit)
            self.booked_on_unhealthy.append((b.holder, b.node))
        for lease in change.leases:
            if lease.id in self.ref and self.ref[lease.id] != lease.state:
                self.ref[lease.id] = lease.state  # the clock moved it; checked in tick()

    def _check_amendments(self, change: Change, counts: dict[str, int], amended: AmendmentKind | None) -> None:
        """Each lease the change writes gained exactly the amendments its operation makes."""
        swaps: dict[str, int] = {}
        for e in change.events:
            if e.kind == "lease.swapped":
                swaps[e.subject] = swaps.get(e.subject, 0) + 1
        for lease_id in {lease.id for lease in change.leases} | set(swaps):
            added = tuple(a.kind for a in self.engine.lease(lease_id).amendments[counts.get(lease_id, 0) :])
            expected = ((amended,) if amended is not None else ()) + (AmendmentKind.SWAP,) * swaps.get(lease_id, 0)
            assert added == expected, (lease_id, added, expected)

    def _free_healthy(self, start: int, end: int) -> dict[str, list[str]]:
        """Brute force over the reference: per block, nodes healthy now and unbooked in the window."""
        out: dict[str, list[str]] = {}
        for node in self.engine.snap.node_ids:
            if self.health_ref[node] is H.HEALTHY and not self.engine.view.ledger.overlapping(node, start, end):
                out.setdefault(node.split("-")[0], []).append(node)
        return out

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
        except Unplaceable:
            free = self._free_healthy(start, start + hours * HOUR)
            need = gpus // 8
            fits = (
                max(map(len, free.values()), default=0) if locality is Locality.BLOCK else sum(map(len, free.values()))
            )
            assert fits < need, f"refused {gpus} GPUs ({locality}) though {fits} free healthy nodes fit"
            return
        self._apply(change)
        self.booked[lease_id] = _lease.contract
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
        new_end = lease.end_s + hours * HOUR
        tail = [b for b in self.engine.lease_nodes(lease_id) if b.end_s == lease.end_s]
        clear = all(not self.engine.view.ledger.overlapping(b.node, lease.end_s, new_end) for b in tail)
        try:
            change = self.engine.extend(lease_id, new_end, now_s=self.now, actor="h", allow_swap=swap)
        except DomainError as e:
            refused = str(e)
        else:
            refused = None
        if refused is not None:
            assert lease.state not in LIVE_STATES or not clear, f"extend of free nodes refused: {refused}"
            return
        self._apply(change, AmendmentKind.EXTEND)
        assert lease.state not in FINAL_STATES
        assert self.engine.lease(lease_id).end_s == lease.end_s + hours * HOUR

    @rule(data=st.data())
    def shrink(self, data: st.DataObject) -> None:
        lease_id = self._pick(data)
        if lease_id is None:
            return
        lease = self.engine.lease(lease_id)
        at = max(self.now, lease.start_s)
        allowed = lease.state in LIVE_STATES and at < lease.end_s and lease.contracted_at(at) > 8
        try:
            change = self.engine.shrink(lease_id, 8, from_s=at, now_s=self.now, actor="h")
        except DomainError as e:
            assert not allowed, f"a valid shrink was refused: {e}"  # noqa: PT017 - a rule, not a test of one call
            return
        assert allowed
        self._apply(change, AmendmentKind.SHRINK)
        assert self.engine.lease(lease_id).contracted_at(at) == 8

    @rule(data=st.data())
    def terminate(self, data: st.DataObject) -> None:
        lease_id = self._pick(data)
        if lease_id is None:
            return
        was = self.ref[lease_id]
        try:
            self._apply(
                self.engine.terminate(lease_id, at_s=self.now, now_s=self.now, actor="h"), AmendmentKind.TERMINATE
            )
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
        legal = (self.health_ref[node], state) in TRANSITIONS
        try:
            change = self.engine.set_health(node, state, at_s=self.now, now_s=self.now, actor="h", reason="r")
        except DomainError:
            assert not legal
            return
        assert legal
        self.health_ref[node] = state
        if state is H.FAILED:
            self.failed_since[node] = self.now
        elif state is H.HEALTHY:
            self.failed_since.pop(node, None)
        self._apply(change)

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
        for b in self.engine.view.ledger.bookings():
            per_node.setdefault(b.node, []).append((b.start_s, b.end_s))
        for spans in per_node.values():
            spans.sort()
            for (_, e1), (s2, _) in itertools.pairwise(spans):
                assert e1 <= s2

    @invariant()
    def replaying_the_amendments_over_the_booked_contract_gives_the_contract(self) -> None:
        for lease_id, booked in getattr(self, "booked", {}).items():
            lease = self.engine.lease(lease_id)
            assert replay_contract(booked, lease.amendments) == lease.contract, lease_id

    @invariant()
    def states_match_the_reference(self) -> None:
        for lease_id, state in getattr(self, "ref", {}).items():
            assert self.engine.lease(lease_id).state is state

    @invariant()
    def live_leases_hold_their_contract_from_now_on(self) -> None:
        if not hasattr(self, "engine"):
            return
        for lease in self.engine.view.leases.values():
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
        for lease in self.engine.view.leases.values():
            if lease.state in (LeaseState.CANCELLED, LeaseState.EXPIRED):
                assert self.engine.lease_nodes(lease.id) == []

    @invariant()
    def every_new_booking_lands_on_a_healthy_node(self) -> None:
        assert getattr(self, "booked_on_unhealthy", []) == []

    @invariant()
    def no_live_lease_keeps_a_failed_node_unless_it_is_marked_degraded(self) -> None:
        """A node that failed at ``t`` serves no live lease after ``t``: the booking was
        cut there (swapped), or the lease names the node among its degraded nodes."""
        for node, since in getattr(self, "failed_since", {}).items():
            for b in self.engine.view.ledger.overlapping(node, since, 2**62):
                lease = self.engine.view.leases.get(b.holder)
                if b.kind is not HolderKind.LEASE or lease is None or lease.state not in LIVE_STATES:
                    continue
                assert node in lease.degraded_nodes, (lease.id, node, b)

    @invariant()
    def the_view_health_is_the_reference_health(self) -> None:
        for node, state in getattr(self, "health_ref", {}).items():
            assert self.engine.view.health_of(node) is state


LedgerMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerMachine = LedgerMachine.TestCase
