"""The ledger: no two bookings of a node overlap; changes are all or nothing."""

from __future__ import annotations

import pytest

from neocloud.domain.errors import DomainError
from neocloud.domain.ledger import BookingConflict, Draft, HolderKind, Ledger, UnknownNode

L = HolderKind.LEASE


def a_ledger() -> Ledger:
    return Ledger(["n1", "n2", "n3"])


def test_half_open_intervals_that_touch_do_not_overlap():
    ledger = a_ledger()
    ledger.book([Draft("n1", 0, 10, L, "a")])
    ledger.book([Draft("n1", 10, 20, L, "b")])
    assert [b.holder for b in ledger.overlapping("n1", 0, 100)] == ["a", "b"]


def test_an_overlapping_booking_is_refused_and_nothing_of_the_batch_is_booked():
    ledger = a_ledger()
    ledger.book([Draft("n1", 0, 10, L, "a")])
    with pytest.raises(BookingConflict) as info:
        ledger.book([Draft("n2", 0, 10, L, "b"), Draft("n1", 5, 15, L, "b")])
    facts = info.value.facts
    assert (facts["node"], facts["start"], facts["end"], facts["_other_start"], facts["_other_end"]) == (
        "n1",
        5,
        15,
        0,
        10,
    )
    assert set(info.value.public_facts()) == {"count", "node", "start", "end"}  # nothing of the other holder
    assert "lease a" not in str(info.value)  # who holds it is for the operator only
    assert info.value.render(str, operator=True).endswith("[5, 15) (overlaps lease a [0, 10))")
    assert "[0, 10)" not in str(info.value)
    assert ledger.overlapping("n2", 0, 10) == []
    assert len(ledger) == 1


def test_drafts_of_one_batch_may_not_overlap_each_other():
    with pytest.raises(BookingConflict):
        a_ledger().book([Draft("n1", 0, 10, L, "a"), Draft("n1", 9, 12, L, "a")])


def test_unavailable_marks_nodes_with_any_booking_in_the_window():
    ledger = a_ledger()
    ledger.book([Draft("n1", 0, 10, L, "a"), Draft("n3", 20, 30, HolderKind.MAINTENANCE, "mw-1")])
    assert ledger.unavailable(5, 25).tolist() == [True, False, True]
    assert ledger.unavailable(10, 20).tolist() == [False, False, False]


def test_release_and_truncate_free_the_node():
    ledger = a_ledger()
    [a] = ledger.book([Draft("n1", 0, 10, L, "a")])
    ledger.truncate(a.id, 4)
    assert ledger.unavailable(4, 10).tolist() == [False, False, False]
    ledger.book([Draft("n1", 4, 10, L, "b")])
    ledger.release(a.id)
    assert ledger.unavailable(0, 4).tolist() == [False, False, False]


def test_truncate_cannot_extend():
    ledger = a_ledger()
    [a] = ledger.book([Draft("n1", 0, 10, L, "a")])
    with pytest.raises(DomainError, match="cannot extend"):
        ledger.truncate(a.id, 11)


def test_unknown_node_and_empty_interval_are_refused():
    with pytest.raises(UnknownNode):
        a_ledger().book([Draft("ghost", 0, 1, L, "a")])
    with pytest.raises(DomainError, match="not before end"):
        a_ledger().book([Draft("n1", 5, 5, L, "a")])


def test_the_arrays_grow_past_their_first_capacity():
    ledger = Ledger([f"n{k}" for k in range(3000)])
    ledger.book([Draft(f"n{k}", 0, 10, L, "a") for k in range(3000)])
    assert ledger.unavailable(0, 1).all()
    assert ledger.change_times(0) == [10]
