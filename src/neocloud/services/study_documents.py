"""The result documents of the studies: what ``plan keep-vs-lease --json`` prints (and a
stored keep-vs-lease study keeps), and what a stored sweep keeps (its rows and the
about block). One builder each, shared by the CLI, the server's studies and the demo."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from neocloud.domain.money import Money
from neocloud.sim.sweep import Row

if TYPE_CHECKING:  # the CLI's sweep imports this module; it need not load the deal analysis
    from neocloud.services.keep_vs_lease import Option, Study

CENT = Decimal("0.01")


def keep_vs_lease_document(
    result: Study,
    *,
    scale: float,
    load: float,
    price: Money | None,
    extras: Callable[[Option], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The study per fraction: the internal work on what stays and the lease's economics,
    money as decimal strings (docs/keep-vs-lease.md lists every field); ``extras`` adds
    to each fraction's lease what its way of selling reports (a tier's deals, a
    stream's bookings). ``price``: ``None`` when what is leased is sold to a stream."""
    options = []
    for o in result.options:
        s = o.kept.summary
        options.append(
            {
                "fraction": o.fraction,
                "leased_units": list(o.kept.leased_units),
                "leased_gpus": o.kept.leased_gpus,
                "kept_gpus": o.kept.kept_gpus,
                "internal": {
                    "jobs": s.jobs,
                    "finished": s.finished,
                    "unfinished": o.unfinished,
                    "jct_mean_s": s.jct_mean_s,
                    "jct_p99_s": s.jct_p99_s,
                    "queue_mean_s": s.queue_mean_s,
                    "queue_p99_s": s.queue_p99_s,
                    "delay_mean_s": s.delay_mean_s,
                    "delay_p99_s": s.delay_p99_s,
                    "utilization_of_kept": s.allocation_ratio_mean,
                    "preemptions": s.preemptions,
                },
                "lease": {
                    "total_revenue": str(o.total_revenue.quantize(CENT)),
                    "annual_revenue": str(o.annual_revenue.quantize(CENT)),
                    "annual_tco": str(o.annual_tco.quantize(CENT)),
                    "gross_margin": o.gross_margin,
                    "npv": str(o.npv.quantize(CENT)),
                    "revenue_at_risk": str(o.revenue_at_risk.quantize(CENT)),
                    "top1_share": o.top1_share,
                    "hhi": o.hhi,
                    "sites": list(dict.fromkeys(d.site.name for d in o.deals)),
                    **(extras(o) if extras is not None else {}),
                },
            }
        )
    return {
        "currency": result.currency,
        "price_per_gpu_hour": None if price is None else str(price.amount),
        "internal_scale": scale,
        "internal_load": load,
        "max_delay_hours": result.max_delay_s / 3600,
        "recommended_fraction": result.recommended,
        "recommendation": result.reason,
        "options": options,
    }


def sold_text(doc: Mapping[str, Any]) -> str:
    """How what is leased is sold, in a few words for the summary and the page."""
    cur = doc["currency"]
    selling = doc.get("selling", {})
    if selling.get("way") == "tier":
        rates = ", ".join(f"{m} {r}" for m, r in doc["prices_per_gpu_hour"].items())
        return f"{selling['tier']} tier ({selling['prices']}): {rates} {cur} per GPU-hour"
    if selling.get("way") == "demand":
        return f"offered to {selling['requests']:,} requests of {selling['demand']} ({selling['prices']})"
    return f"{doc['price_per_gpu_hour']} {cur} per GPU-hour"


def sweep_document(rows: Sequence[Row], about: Mapping[str, Any]) -> dict[str, Any]:
    """A sweep as stored: the about block (trace, cluster, placement, window, where it
    ran, wall time) and every row (``neocloud.sim.sweep.COLUMNS``)."""
    return {"about": dict(about), "rows": [r.as_dict() for r in rows]}


def sweep_rows(document: Mapping[str, Any]) -> list[Row]:
    """A stored sweep's rows back as :class:`Row` values (a ``None`` figure, stored for
    a mean over no finished job, as NaN)."""
    rows: list[Row] = []
    for r in document["rows"]:
        values: dict[str, Any] = {k: (math.nan if v is None else v) for k, v in r.items()}
        rows.append(Row(**values))
    return rows
