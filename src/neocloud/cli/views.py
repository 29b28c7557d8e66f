"""JSON views of ledger objects for ``--json`` output (documented in docs/cli.md)."""

from __future__ import annotations

from typing import Any

from neocloud.domain.changes import StoredEvent
from neocloud.domain.clock import from_s
from neocloud.domain.credits import credits_document
from neocloud.domain.leases import Amendment, Lease
from neocloud.economics.pricebook import Margin
from neocloud.leasing.availability import ModelAvailability
from neocloud.leasing.engine import Quote, Refusal
from neocloud.services.leasing import LeaseView


def iso(t_s: int | None) -> str | None:
    return None if t_s is None else from_s(t_s).isoformat().replace("+00:00", "Z")


def short_time(t_s: int | None) -> str:
    """``2027-01-01`` at midnight UTC, else ``2027-01-01 13:45``: for tables."""
    if t_s is None:
        return "-"
    dt = from_s(t_s)
    return dt.strftime("%Y-%m-%d") if (dt.hour, dt.minute, dt.second) == (0, 0, 0) else dt.strftime("%Y-%m-%d %H:%M")


# The instants of event payloads (seconds in the log), as api/schemas.py _INSTANT_KEYS.
TIME_KEYS = frozenset({"start", "end", "from", "at", "expires", "effective"})


def change_summary(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """``state: held -> confirmed; end: 2027-07-01 -> 2027-09-01``: only what changed."""
    before, after = before or {}, after or {}
    parts = []
    for key in after:
        old, new = before.get(key), after[key]
        if old == new:
            continue
        show = _show_time if key in TIME_KEYS else (_show_contract if key == "contract" else _show_value)
        parts.append(f"{key}: {show(old)} -> {show(new)}" if key in before else f"{key}: {show(new)}")
    return "; ".join(parts)


def _show_time(value: Any) -> str:
    return short_time(value) if isinstance(value, int) else str(value)


def _show_value(value: Any) -> str:
    """A list (a degraded lease's nodes) as ``a, b``, not Python's ``['a', 'b']``."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _show_contract(value: Any) -> str:
    if not isinstance(value, list):
        return str(value)
    return ", ".join(f"{g:,} GPUs {short_time(s)}..{short_time(e)}" for s, e, g in value)


def lease_json(lease: Lease) -> dict[str, Any]:
    shape = lease.request.shape
    return {
        "id": lease.id,
        "tenant": lease.tenant,
        "state": lease.state.value,
        "model": lease.model,
        "gpus": lease.gpus,
        "start": iso(lease.start_s),
        "end": iso(lease.end_s),
        "locality": shape.locality.value,
        "unit": shape.unit.value if shape.unit else None,
        "units": shape.units if shape.unit else None,
        "site": shape.site,
        "price_per_gpu_hour": str(lease.price_per_gpu_hour.amount),
        "currency": lease.price_per_gpu_hour.currency,
        "tier": lease.request.tier.value,
        "price_version": lease.request.price_version,
        "price_override": lease.request.price_override,
        "sla_availability_pct": str(lease.request.sla_availability_pct),
        "hold_expires": iso(lease.hold_expires_s),
        "degraded_nodes": list(lease.degraded_nodes),
        "contract": [{"start": iso(s.start_s), "end": iso(s.end_s), "gpus": s.gpus} for s in lease.contract],
        "created": iso(lease.created_s),
        "maintenance_notice_s": lease.request.maintenance_notice_s,
        "amendments": [amendment_json(a) for a in lease.amendments],
        "sla_credits": credits_document(lease.request.sla_credit_tiers, lease.request.sla_credit_cap),
    }


def amendment_json(a: Amendment) -> dict[str, Any]:
    """One amendment as the API writes it (api/schemas_amendments.py AmendmentOut)."""
    return {
        "kind": a.kind.value,
        "at": iso(a.at_s),
        "effective": iso(a.effective_s),
        "actor": a.actor,
        "reason": a.reason,
        "before": [{"start": iso(s.start_s), "end": iso(s.end_s), "gpus": s.gpus} for s in a.before],
        "after": [{"start": iso(s.start_s), "end": iso(s.end_s), "gpus": s.gpus} for s in a.after],
        "nodes": [{"out": out, "replacement": into} for out, into in a.nodes],
        "window": None if a.window is None else {"start": iso(a.window[0]), "end": iso(a.window[1])},
    }


def lease_view_json(view: LeaseView) -> dict[str, Any]:
    out = lease_json(view.lease)
    out["history"] = [
        {
            "from": h.from_state.value if h.from_state else None,
            "to": h.to_state.value,
            "at": iso(h.at_s),
            "actor": h.actor,
            "reason": h.reason,
        }
        for h in view.lease.history
    ]
    out["blocks_at"] = iso(view.blocks_at_s)
    out["blocks"] = [
        {
            "site": s.site,
            "block": s.block,
            "model": s.model,
            "nodes": s.nodes,
            "gpus": s.gpus,
            "spares": s.spares,
            "unhealthy_nodes": s.unhealthy,
        }
        for s in view.blocks
    ]
    out["bookings"] = [
        {"id": b.id, "node": b.node, "kind": b.kind.value, "start": iso(b.start_s), "end": iso(b.end_s)}
        for b in view.bookings
    ]
    out["capacity"] = [
        {"from": iso(p.t_s), "contracted_gpus": p.contracted, "delivered_gpus": p.delivered} for p in view.capacity
    ]
    return out


def quote_json(quote: Quote | Refusal, margin: Margin | None = None) -> dict[str, Any]:
    if isinstance(quote, Refusal):
        return {
            "feasible": False,
            "reason": quote.reason,
            "alternatives": [
                {
                    "kind": a.kind,
                    "description": a.description,
                    "start": iso(a.start_s),
                    "gpus": a.gpus,
                    "locality": a.locality.value if a.locality else None,
                }
                for a in quote.alternatives
            ],
        }
    return {
        "feasible": True,
        "model": quote.model,
        "gpus": quote.gpus,
        "nodes": len(quote.nodes),
        "spares": len(quote.spares),
        "gpu_hours": str(quote.gpu_hours),
        "total": str(quote.total.amount),
        "currency": quote.total.currency,
        "contract": [{"start": iso(s.start_s), "end": iso(s.end_s), "gpus": s.gpus} for s in quote.contract],
        "nodes_by_block": quote.blocks,
        "tier": quote.request.tier.value,
        "price_version": quote.request.price_version,
        "price_per_gpu_hour": None if (p := quote.request.price_per_gpu_hour) is None else str(p.amount),
        "margin": None if margin is None else margin_json(margin),
    }


def margin_json(m: Margin) -> dict[str, str]:
    """The operator's margin over TCO."""
    return {
        "tco_per_gpu_hour": str(m.tco_per_gpu_hour.amount),
        "margin_per_gpu_hour": str(m.per_gpu_hour.amount),
        "margin_total": str(m.total.amount),
        "margin_share": str(m.share),
        "currency": m.total.currency,
    }


def availability_json(rows: list[ModelAvailability]) -> list[dict[str, Any]]:
    return [
        {
            "model": r.model,
            "total_gpus": r.total_gpus,
            "healthy_gpus": r.healthy_gpus,
            "free_gpus": r.free_gpus,
            "largest_free": r.largest_free,
            "whole_free": r.whole_free,
            "series": [{"from": iso(t), "free_gpus": v} for t, v in r.series],
        }
        for r in rows
    ]


def event_json(stored: StoredEvent) -> dict[str, Any]:
    e = stored.event
    return {
        "seq": stored.seq,
        "kind": e.kind,
        "subject": e.subject,
        "at": iso(e.at_s),
        "actor": e.actor,
        "tenant": e.tenant,
        "lease": e.lease_id,
        "node": e.node,
        "before": e.before,
        "after": e.after,
    }
