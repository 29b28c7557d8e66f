"""The one visibility rule, on values: scopes, leases and refusals as each viewer sees them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.domain.access import AccessDenied, Principal, Role
from neocloud.domain.leases import HeldByOthers, Lease, LeaseRequest, LeaseState
from neocloud.domain.ledger import Booking, BookingConflict, Draft, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.shape import Shape
from neocloud.leasing.engine import NotFound
from neocloud.services.visibility import OPERATOR, Viewer

T0 = 1_800_000_000  # 2027-01-15 08:00 UTC


def a_lease(lease_id: str, tenant: str) -> Lease:
    request = LeaseRequest(tenant, Shape(("H100",), gpus=8), T0, T0 + 3600, Money(Decimal(2)))
    return Lease(lease_id, request, LeaseState.CONFIRMED, "H100", (), T0)


def test_a_tenant_key_without_a_tenant_sees_nothing() -> None:
    with pytest.raises(AccessDenied):
        Viewer.of(Principal("k1", Role.TENANT, None))
    assert Viewer.of(Principal("k2", Role.OPERATOR, None)) is OPERATOR
    assert Viewer.of(Principal("k3", Role.TENANT, "acme")) == Viewer("acme")


def test_naming_another_tenant_is_the_not_found_of_a_tenant_that_does_not_exist() -> None:
    acme = Viewer("acme")
    assert acme.scope() == acme.scope("acme") == "acme"
    assert OPERATOR.scope() is None
    assert OPERATOR.scope("globex") == "globex"
    with pytest.raises(NotFound, match="no tenant 'globex'"):
        acme.scope("globex")


def test_another_tenants_lease_is_not_found_in_the_words_for_a_missing_one() -> None:
    theirs = a_lease("L-1", "globex")
    assert OPERATOR.lease(theirs) is theirs
    with pytest.raises(NotFound) as seen:
        Viewer("acme").lease(theirs)
    assert str(seen.value) == "no lease 'L-1'"  # what Engine.lease says of a lease that does not exist


def test_a_tenant_reads_a_blocked_extend_without_the_holders_the_operator_reads_them() -> None:
    refusal = HeldByOthers("L-1", T0 + 86_400, 13, T0, ("lease L-9", "pool train"), (("n1", "n7"),))
    assert OPERATOR.shown(refusal) is refusal
    assert "lease L-9" in str(refusal)
    assert "n1->n7" in str(refusal)
    told = Viewer("acme").shown(refusal)
    assert isinstance(told, HeldByOthers)
    assert (told.blocked, told.from_s, told.holders, told.swaps) == (13, T0, (), ())
    assert str(told) == (
        "extend L-1 to 2027-01-16 08:00 UTC: 13 of your nodes are booked after 2027-01-15 08:00 UTC; free nodes "
        "in the same blocks could take over 13 of them from then. Ask again allowing the swap"
    )


def test_a_booking_conflict_reaches_a_tenant_without_the_other_holder() -> None:
    theirs = Booking(7, "n1", T0, T0 + 60, HolderKind.LEASE, "L-9")
    conflict = BookingConflict([(Draft("n1", T0, T0 + 60, HolderKind.LEASE, "L-1"), theirs)])
    assert "L-9" in conflict.render(operator=True)  # the holder is the operator's to read
    assert OPERATOR.shown(conflict) is conflict
    told = Viewer("acme").shown(conflict)
    assert "L-9" not in told.render(operator=True)
    assert str(told) == "1 node interval(s) are already taken; quote again"
