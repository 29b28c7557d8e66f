"""The result documents of the studies: what ``plan keep-vs-lease --json`` prints (and a
stored keep-vs-lease study keeps), and what a stored sweep keeps (its rows and the
about block). One builder each, shared by the CLI, the server's studies and the demo."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from neocloud.domain.money import Money
from neocloud.sim.sweep import Row

if TYPE_CHECKING:  # the CLI's sweep imports this module; it need not load the deal analysis
    from neocloud.services.keep_vs_lease import Study

CENT = Decimal("0.01")


def keep_vs_lease_document(result: Study, *, scale: float, load: float, price: Money) -> dict[str, Any]:
    """The study per fraction: the internal work on what stays and the lease's economics,
    money as decimal strings (docs/keep-vs-lease.md lists every field)."""
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
                    "sites": [d.site.name for d in o.deals],
                },
            }
        )
    return {
        "currency": result.currency,
        "price_per_gpu_hour": str(price.amount),
        "internal_scale": scale,
        "internal_load": load,
        "max_delay_hours": result.max_delay_s / 3600,
        "recommended_fraction": result.recommended,
        "recommendation": result.reason,
        "options": options,
    }


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
