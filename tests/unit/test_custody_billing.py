"""What a node's holders were billed and credited for it: a lease's charges by the
node's share of the lease's booked GPU-seconds in the period, SLA credits by the
node's share of their evidence, credit notes negative, prepayments never; each share
rounded once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.billing.custody import bills_of, node_billing
from neocloud.domain.billing import Evidence, LineKind, change_invoice_state, next_period
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import round_money
from tests.invoice_builders import IS, JAN, a_line, a_note, an_invoice, usd

DAY = 86_400
L, S = HolderKind.LEASE, HolderKind.SPARE


def booking(k: int, node: str, start_days: float, end_days: float, kind: HolderKind = L) -> Booking:
    return Booking(k, node, JAN.start_s + int(start_days * DAY), JAN.start_s + int(end_days * DAY), kind, "L-1")


#: L-1 holds n-1 for 10 days, then a swap puts n-3 in its place; n-2 the whole month;
#: n-9 is its spare, and a booking in February does not count for January.
BOOKED = {
    "L-1": [
        booking(1, "n-1", 0, 10),
        booking(2, "n-3", 10, 31),
        booking(3, "n-2", 0, 31),
        booking(4, "n-9", 0, 31, S),
        booking(5, "n-1", 31, 40),
    ]
}
GPUS = {"n-1": 8, "n-2": 8, "n-3": 8, "n-9": 8}


def test_a_charge_goes_to_the_node_by_its_share_of_the_leases_gpu_seconds_in_the_period():
    invoice = an_invoice(lines=(a_line(amount="6200.00"),))
    [share] = node_billing("n-1", BOOKED, GPUS, [invoice], [])
    assert (share.node_gpu_s, share.basis_gpu_s) == (8 * 10 * DAY, 8 * 62 * DAY)  # the spare is no part of it
    assert share.amount == usd("1000.00")  # 6200 x 10 / 62
    assert (share.document, share.credit_note, share.kind, share.tenant) == ("INV-1", False, LineKind.CHARGE, "acme")


def test_each_share_is_rounded_once_to_the_cent_half_to_even():
    invoice = an_invoice(lines=(a_line(amount="100.00"),))
    [share] = node_billing("n-1", BOOKED, GPUS, [invoice], [])
    assert share.amount.amount == round_money(Decimal("100.00") * 10 / 62, "USD") == Decimal("16.13")


def test_an_sla_credit_goes_to_a_node_only_by_its_share_of_the_evidence():
    evidence = (Evidence("n-1", 0, 3 * DAY, 8, "failed"), Evidence("n-2", 0, DAY, 8, "unreplaced"))
    credit = a_line(amount="-40.00", kind=LineKind.SLA_CREDIT, evidence=evidence)
    invoice = an_invoice(lines=(credit,))
    [share] = node_billing("n-1", BOOKED, GPUS, [invoice], [])
    assert (share.node_gpu_s, share.basis_gpu_s, share.amount) == (24 * DAY, 32 * DAY, usd("-30.00"))
    assert node_billing("n-3", BOOKED, GPUS, [invoice], []) == ()  # held by the lease, named by no evidence


def test_a_credit_note_counts_as_money_given_back_and_a_prepayment_is_no_nodes():
    invoice = an_invoice(lines=(a_line("", "-50.00", kind=LineKind.PREPAYMENT),))
    note = a_note()  # 12.35 given back on L-1 for 2027-01
    [share] = node_billing("n-2", BOOKED, GPUS, [invoice], [note])
    assert share.credit_note
    assert share.amount == usd(str(-round_money(Decimal("12.35") * 31 / 62, "USD")))


def test_a_line_of_another_lease_or_a_node_never_booked_gives_nothing():
    invoice = an_invoice()  # lines of L-1 and L-2
    assert all(s.lease_id == "L-1" for s in node_billing("n-2", BOOKED, GPUS, [invoice], []))
    assert node_billing("n-9", BOOKED, GPUS, [invoice], []) == ()  # only ever the spare


@settings(max_examples=200, deadline=None)
@given(
    days=st.lists(st.integers(min_value=1, max_value=31), min_size=1, max_size=12),
    cents=st.integers(min_value=-(10**9), max_value=10**9),
)
def test_the_shares_of_a_charge_over_its_nodes_add_up_to_it_within_half_a_cent_each(days: list[int], cents: int):
    booked = {"L-1": [booking(k, f"n-{k}", 0, d) for k, d in enumerate(days)]}
    gpus = {f"n-{k}": 4 + k % 5 for k in range(len(days))}
    line = a_line(amount=str(Decimal(cents) / 100))
    invoice = an_invoice(lines=(line,))
    shares = [s for k in range(len(days)) for s in node_billing(f"n-{k}", booked, gpus, [invoice], [])]
    assert len(shares) == len(days)
    assert sum(s.node_gpu_s for s in shares) == shares[0].basis_gpu_s
    total = sum((s.amount.amount for s in shares), Decimal(0))
    assert abs(total - line.amount.amount) <= Decimal("0.005") * len(days)


def test_per_lease_and_period_the_charges_are_billed_and_the_credits_and_notes_credited():
    evidence = (Evidence("n-1", 0, 3 * DAY, 8, "failed"),)
    invoice = an_invoice(
        lines=(a_line(amount="6200.00"), a_line(amount="-40.00", kind=LineKind.SLA_CREDIT, evidence=evidence))
    )
    note = a_note()  # 12.35 given back on L-1 for 2027-01
    shares = node_billing("n-1", BOOKED, GPUS, [invoice], [note])
    [bill] = bills_of(shares)
    given_back = round_money(Decimal("12.35") * 10 / 62, "USD")
    assert (bill.lease_id, bill.tenant, bill.period) == ("L-1", "acme", "2027-01")
    assert bill.billed == usd("1000.00")
    assert bill.credited.amount == Decimal("40.00") + given_back  # the credit names only n-1
    assert bill.net.amount == sum(s.amount.amount for s in shares)


def test_a_voided_draft_billed_nothing_so_the_trail_counts_only_the_invoice_that_billed_the_month_again():
    charge = a_line(amount="6200.00")
    drafted = an_invoice("INV-acme-2027-01", state=IS.DRAFT, lines=(charge,))
    voided = change_invoice_state(drafted, IS.VOID, at_s=200, actor="ops", reason="the contract starts later")
    debit = replace(charge, kind=LineKind.ADJUSTMENT)  # January billed on February's invoice instead
    february = an_invoice("INV-acme-2027-02", p=next_period(JAN), lines=(debit,))
    waiting = an_invoice("INV-acme-2027-03", p=next_period(next_period(JAN)), state=IS.DRAFT, lines=(debit,))
    shares = node_billing("n-1", BOOKED, GPUS, [voided, february, waiting], [])
    assert [s.document for s in shares] == ["INV-acme-2027-02"]  # a draft, waiting or voided, billed nothing yet
    [bill] = bills_of(shares)
    assert bill.billed == usd("1000.00")  # 6200 x 10 / 62, once
