"""Typed amendments on a lease: each operation records one, and replaying them over the
booked contract gives the current one (domain/leases.py ``replay_contract``)."""

from __future__ import annotations

import pytest

from neocloud.domain.leases import Amendment, AmendmentError, AmendmentKind, Segment, replay_contract

K = AmendmentKind
BOOKED = (Segment(0, 100, 16), Segment(100, 200, 32))


def an_amendment(kind: AmendmentKind, effective_s: int, before, after, **kw) -> Amendment:
    return Amendment(kind, 0, effective_s, "ops", "test", tuple(before), tuple(after), **kw)


def test_replaying_extend_shrink_and_terminate_over_the_booked_contract_gives_the_last_one():
    extended = (Segment(0, 100, 16), Segment(100, 300, 32))
    shrunk = (Segment(0, 100, 16), Segment(100, 150, 32), Segment(150, 300, 8))
    ended = (Segment(0, 100, 16), Segment(100, 150, 32), Segment(150, 250, 8))
    chain = (
        an_amendment(K.EXTEND, 200, BOOKED, extended),
        an_amendment(K.SWAP, 120, extended, extended, nodes=(("n1", "n2"),)),
        an_amendment(K.SHRINK, 150, extended, shrunk),
        an_amendment(K.MAINTENANCE, 160, shrunk, shrunk, window=(160, 170)),
        an_amendment(K.TERMINATE, 250, shrunk, ended),
    )
    assert replay_contract(BOOKED, chain) == ended
    assert replay_contract(BOOKED, ()) == BOOKED


def test_an_amendment_that_does_not_start_from_the_previous_contract_is_named_by_index():
    extended = (Segment(0, 100, 16), Segment(100, 300, 32))
    chain = (an_amendment(K.EXTEND, 200, BOOKED, extended), an_amendment(K.SWAP, 10, BOOKED, BOOKED))
    with pytest.raises(AmendmentError, match=r"amendments\[1\] \(swap\): its contract before"):
        replay_contract(BOOKED, chain)


@pytest.mark.parametrize(
    ("amendment", "problem"),
    [
        (an_amendment(K.EXTEND, 200, BOOKED, (Segment(0, 100, 16), Segment(100, 150, 32))), "end later"),
        (an_amendment(K.EXTEND, 150, BOOKED, (Segment(0, 100, 16), Segment(100, 300, 32))), "old end"),
        (an_amendment(K.SHRINK, 150, BOOKED, (Segment(0, 100, 16), Segment(100, 150, 32))), "fewer GPUs"),
        (
            an_amendment(K.SHRINK, 150, BOOKED, (Segment(0, 100, 16), Segment(100, 150, 32), Segment(150, 200, 40))),
            "fewer GPUs",
        ),
        (an_amendment(K.TERMINATE, 150, BOOKED, (Segment(0, 100, 16),)), "clips the contract"),
        (an_amendment(K.TERMINATE, 200, BOOKED, BOOKED), "clips the contract"),
        (an_amendment(K.SWAP, 150, BOOKED, (Segment(0, 100, 16),)), "as it was"),
        (an_amendment(K.MAINTENANCE, 150, BOOKED, BOOKED, window=(160, 170)), "from its start"),
        (an_amendment(K.MAINTENANCE, 150, BOOKED, BOOKED, window=(150, 150)), "start before its end"),
    ],
)
def test_an_amendment_that_its_kind_does_not_allow_is_refused(amendment: Amendment, problem: str):
    with pytest.raises(AmendmentError, match=problem):
        replay_contract(BOOKED, (amendment,))
