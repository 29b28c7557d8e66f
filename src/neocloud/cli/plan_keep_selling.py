"""``plan keep-vs-lease --tier`` and ``--demand``: how what is leased is sold, read from the
options (docs/keep-vs-lease.md). ``--demand`` takes ``sim leases``' syntax and readers
(``csv:PATH`` or ``model:KEY=VAL,...``); the price book is ``sim leases``' (the seeded
version 1, or ``--prices CARDS.yaml``). A bad value exits 2 naming the option."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neocloud.cli.sim_inputs import fail

#: Options that belong to selling to one tenant, refused beside --demand.
ONE_TENANT = ("--tenant", "--start", "--end", "--ramp", "--notice-days", "--initial-months")


def way_of_selling(
    *,
    price: str | None,
    fee: str | None,
    tier: str | None,
    demand: str | None,
    given: Mapping[str, object],
) -> str:
    """Exactly one of the four ways; the one-tenant options are refused with --demand."""
    chosen = [w for w, v in (("price", price), ("monthly_fee", fee), ("tier", tier), ("demand", demand)) if v]
    if len(chosen) != 1:
        fail("--price-per-gpu-hour, --monthly-fee, --tier or --demand: give exactly one")
    if chosen[0] == "demand":
        for option in ONE_TENANT:
            if given.get(option) is not None:
                fail(f"{option}: not with --demand (the requests name their tenants and terms)")
    return chosen[0]


def tier_of(text: str) -> Any:
    from neocloud.domain.leases import Tier
    from neocloud.services.keep_vs_lease_tier import WHOLE_TIERS, tier_problems

    problems = tier_problems(_empty_book(), text, (), 0, 1)
    if problems:
        fail(f"--tier {text!r}: {problems[0].removeprefix('tier: ')}")
    tier = Tier(text)
    assert tier in WHOLE_TIERS
    return tier


def price_book(prices: Path | None) -> tuple[Any, str]:
    """The book that prices a tier or a stream, and what to call it."""
    from neocloud.cli.sim_leases import _book

    return _book(prices), str(prices) if prices else "seeded v1"


def demand_terms(
    text: str, fleet: Any, snap: Any, units: Any, *, book: Any, days: float | None, seed: int, wacc: Any
) -> tuple[Any, dict[str, Any]]:
    """The terms of selling to the stream of ``--demand`` (as ``sim leases`` reads it),
    materialized once: every fraction is offered the same requests. A model's ``load``
    is of the candidates' GPUs (every fraction's part of the same stream)."""
    from neocloud.cli.sim_leases import DEFAULT_DAYS, MAX_DAYS, _demand, _requests
    from neocloud.services.keep_vs_lease import LeaseTerms
    from neocloud.services.keep_vs_lease_demand import DemandOffer, leased_fleet, leased_node_ids
    from neocloud.sim.lease_demand import ORIGIN_S

    if days is not None and not 0 < days <= MAX_DAYS:
        fail(f"--demand-days {days:g}: expected a number of days above 0 and at most {MAX_DAYS:,}")
    kind, settings, path = _demand(text)
    candidates = leased_fleet(fleet, leased_node_ids(snap, [u.name for u in units]))
    _, requests, about = _requests(kind, settings, path, candidates, days, seed)
    horizon_s = None if days is None and kind == "csv" else round((days or DEFAULT_DAYS) * 86_400)
    offer = DemandOffer(tuple(requests), book, horizon_s)
    return LeaseTerms("demand", ORIGIN_S, ORIGIN_S + 1, wacc=wacc, book=book, demand=offer), about


def _empty_book() -> Any:
    from neocloud.sim.lease_demand import seeded_book

    return seeded_book()


#: Refused requests listed per fraction in the JSON (all are counted), as ``sim leases`` [D].
REFUSED_LISTED = 100


def selling_json(
    terms: Any, *, way: str, prices: str, demand: str | None, about: dict[str, Any], models: Any
) -> dict[str, Any]:
    """The study's way of selling, for the JSON (only the figures the way has)."""
    from neocloud.services.keep_vs_lease_tier import tier_prices

    selling: dict[str, Any] = {"way": way}
    out: dict[str, Any] = {"selling": selling}
    if way in ("tier", "demand"):
        selling["prices"] = prices
    if way == "tier":
        selling["tier"] = terms.tier.value
        found = tier_prices(terms.book, terms.tier, models, terms.start_s, terms.end_s)
        out["prices_per_gpu_hour"] = {m: str(p.rate.amount) for m, p in found.items()}
    if way == "demand":
        offer = terms.demand
        selling |= {"demand": demand, "requests": len(offer.requests), **about}
        selling["days"] = None if offer.horizon_s is None else offer.horizon_s / 86_400
    return out


def option_json(o: Any, way: str) -> dict[str, Any]:
    """One fraction's new figures, for its ``lease`` object: the deals at a tier (one per
    site and model), or what a stream booked and refused."""
    from decimal import Decimal

    cents = Decimal("0.01")
    if way == "tier":
        return {
            "deals": [
                {
                    "site": d.site.name,
                    "gpus": d.analysis.contract.gpus_by_model(),
                    "monthly_fee": _amount(d.analysis.contract.monthly_fee),
                    "price_per_gpu_hour": _amount(d.analysis.contract.price_per_gpu_hour),
                    "ramp": [str(r) for r in d.analysis.contract.ramp],
                }
                for d in o.deals
            ]
        }
    if way != "demand" or o.demand is None:
        return {}
    sale = o.demand
    refused = [] if sale.run is None else [x for x in sale.run.outcomes if not x.accepted]
    return {
        "demand": {
            "requests": sale.requests,
            "accepted": sale.accepted,
            "refused": sale.refused,
            "lessees": sale.lessees,
            "revenue_booked": str(sale.total_revenue),
            "revenue_refused": str(sale.revenue_refused),
            "capex": str(sale.capex.quantize(cents)),
            "refused_requests": [{"id": x.request.id, "reason": x.reason} for x in refused[:REFUSED_LISTED]],
        }
    }


def _amount(money: Any) -> str | None:
    return None if money is None else str(money.amount)


def demand_lines(doc: dict[str, Any]) -> list[str]:
    """Per fraction offered to a stream: what it booked and refused, and to how many."""
    lines = []
    for o in doc["options"]:
        d = o["lease"].get("demand")
        if d is None or not o["fraction"]:
            continue
        refused = f"{doc['currency']} {float(d['revenue_refused']):,.0f}"
        lines.append(
            f"{o['fraction']:.0%} leased: booked {d['accepted']:,} of {d['requests']:,} requests"
            f" ({d['lessees']:,} tenants, top-1 {o['lease']['top1_share']:.0%}, HHI {o['lease']['hhi']:,.0f});"
            f" refused {d['refused']:,} ({refused})"
        )
    return lines
