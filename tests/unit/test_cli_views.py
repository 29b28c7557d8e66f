"""How ``neocloud events`` summarises a payload: instants as dates, lists as text."""

from __future__ import annotations

from neocloud.cli.views import change_summary

DAY = 86_400


def test_neocloud_events_shows_a_price_books_effective_time_as_a_date() -> None:
    summary = change_summary(None, {"version": 2, "effective": DAY, "note": "x"})
    assert "effective: 1970-01-02" in summary
    assert str(DAY) not in summary


def test_neocloud_events_lists_a_degraded_leases_nodes_as_text() -> None:
    assert change_summary(None, {"nodes": ["n1", "n2"]}) == "nodes: n1, n2"
