"""Lossless JSON for the records the database keeps whole: leases and GPU models.

Decimals travel as strings (``str(Decimal)`` round-trips exactly, exponent and
trailing zeros included), enums as their values, tuples as lists. Every decoder
rebuilds the frozen dataclasses, so ``decode_lease(encode_lease(x)) == x``.

Fields added after format 1 was written decode to their defaults when absent, so
older documents still load: ``amendments`` (none), ``request.maintenance_notice_s``
(:data:`~neocloud.domain.leases.MAINTENANCE_NOTICE_S`), ``request.tier``,
``request.price_version``, and the SLA credit terms: ``request.sla_credit_tiers``
(``[[below_pct, share], ...]``, Decimals as strings) loads as the defaults for the
lease's target (:func:`~neocloud.domain.credits.default_credit_tiers`: the only
tiers such a lease was ever credited by) and ``request.sla_credit_cap`` as
:data:`~neocloud.domain.credits.DEFAULT_CAP_SHARE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from neocloud.domain.catalog import GpuModel
from neocloud.domain.credits import DEFAULT_CAP_SHARE, CreditTier, default_credit_tiers
from neocloud.domain.leases import (
    MAINTENANCE_NOTICE_S,
    Amendment,
    AmendmentKind,
    Lease,
    LeaseRequest,
    LeaseState,
    Segment,
    SparePolicy,
    StateChange,
    Step,
    Tier,
)
from neocloud.domain.money import Money
from neocloud.domain.shape import Level, Locality, Shape, Unit

Json = dict[str, Any]

#: Bumped when the lease document changes shape; decoders refuse what they do not know.
LEASE_FORMAT = 1


def encode_lease(lease: Lease) -> Json:
    """The lease as a JSON-ready dict (id, tenant and state are columns too, for queries)."""
    return {
        "format": LEASE_FORMAT,
        "id": lease.id,
        "request": _encode_request(lease.request),
        "state": lease.state.value,
        "model": lease.model,
        "contract": _encode_segments(lease.contract),
        "created_s": lease.created_s,
        "hold_expires_s": lease.hold_expires_s,
        "history": [
            {
                "from": None if h.from_state is None else h.from_state.value,
                "to": h.to_state.value,
                "at_s": h.at_s,
                "actor": h.actor,
                "reason": h.reason,
            }
            for h in lease.history
        ],
        "degraded_nodes": list(lease.degraded_nodes),
        "amendments": [_encode_amendment(a) for a in lease.amendments],
    }


def decode_lease(doc: Mapping[str, Any]) -> Lease:
    fmt = doc.get("format")
    if fmt != LEASE_FORMAT:
        raise ValueError(f"lease document format {fmt!r} is not {LEASE_FORMAT}: upgrade neocloud")
    return Lease(
        id=doc["id"],
        request=_decode_request(doc["request"]),
        state=LeaseState(doc["state"]),
        model=doc["model"],
        contract=_decode_segments(doc["contract"]),
        created_s=int(doc["created_s"]),
        hold_expires_s=None if doc["hold_expires_s"] is None else int(doc["hold_expires_s"]),
        history=tuple(
            StateChange(
                None if h["from"] is None else LeaseState(h["from"]),
                LeaseState(h["to"]),
                int(h["at_s"]),
                h["actor"],
                h["reason"],
            )
            for h in doc["history"]
        ),
        degraded_nodes=tuple(doc["degraded_nodes"]),
        # leases written before amendments were recorded have none
        amendments=tuple(_decode_amendment(a) for a in doc.get("amendments", ())),
    )


def _encode_amendment(a: Amendment) -> Json:
    return {
        "kind": a.kind.value,
        "at_s": a.at_s,
        "effective_s": a.effective_s,
        "actor": a.actor,
        "reason": a.reason,
        "before": _encode_segments(a.before),
        "after": _encode_segments(a.after),
        "nodes": [[out, into] for out, into in a.nodes],
        "window": None if a.window is None else list(a.window),
    }


def _decode_amendment(d: Mapping[str, Any]) -> Amendment:
    window = d["window"]
    return Amendment(
        kind=AmendmentKind(d["kind"]),
        at_s=int(d["at_s"]),
        effective_s=int(d["effective_s"]),
        actor=d["actor"],
        reason=d["reason"],
        before=_decode_segments(d["before"]),
        after=_decode_segments(d["after"]),
        nodes=tuple((out, into) for out, into in d["nodes"]),
        window=None if window is None else (int(window[0]), int(window[1])),
    )


def _encode_segments(contract: tuple[Segment, ...]) -> list[list[int]]:
    return [[s.start_s, s.end_s, s.gpus] for s in contract]


def _decode_segments(rows: list[list[int]]) -> tuple[Segment, ...]:
    return tuple(Segment(int(s), int(e), int(g)) for s, e, g in rows)


def _encode_request(r: LeaseRequest) -> Json:
    shape = r.shape
    return {
        "tenant": r.tenant,
        "shape": {
            "models": list(shape.models),
            "gpus": shape.gpus,
            "unit": None if shape.unit is None else shape.unit.value,
            "units": shape.units,
            "locality": shape.locality.value,
            "site": shape.site,
        },
        "start_s": r.start_s,
        "end_s": r.end_s,
        "price_per_gpu_hour": _encode_price(r.price_per_gpu_hour),
        "sla_availability_pct": str(r.sla_availability_pct),
        "steps": [[s.at_s, s.gpus] for s in r.steps],
        "spares": None if r.spares is None else {"per": r.spares.per, "count": r.spares.count},
        "tier": r.tier.value,
        "price_version": r.price_version,
        "maintenance_notice_s": r.maintenance_notice_s,
        "sla_credit_tiers": [[str(t.below_pct), str(t.share)] for t in r.sla_credit_tiers],
        "sla_credit_cap": str(r.sla_credit_cap),
    }


def _encode_price(price: Money | None) -> Json | None:
    return None if price is None else {"amount": str(price.amount), "currency": price.currency}


def _decode_request(d: Mapping[str, Any]) -> LeaseRequest:
    s = d["shape"]
    price = d["price_per_gpu_hour"]
    spares = d["spares"]
    sla = Decimal(d["sla_availability_pct"])
    tiers = d.get("sla_credit_tiers")  # absent: written before leases recorded their tiers
    return LeaseRequest(
        tenant=d["tenant"],
        shape=Shape(
            models=tuple(s["models"]),
            gpus=None if s["gpus"] is None else int(s["gpus"]),
            unit=None if s["unit"] is None else Unit(s["unit"]),
            units=int(s["units"]),
            locality=Locality(s["locality"]),
            site=s["site"],
        ),
        start_s=int(d["start_s"]),
        end_s=int(d["end_s"]),
        price_per_gpu_hour=None if price is None else Money(Decimal(price["amount"]), price["currency"]),
        sla_availability_pct=sla,
        steps=tuple(Step(int(at), int(g)) for at, g in d["steps"]),
        spares=None if spares is None else SparePolicy(Level(spares["per"]), int(spares["count"])),
        # leases written before the price book: reserved, at an explicit price (no version)
        tier=Tier(d.get("tier", Tier.RESERVED.value)),
        price_version=d.get("price_version"),
        maintenance_notice_s=int(d.get("maintenance_notice_s", MAINTENANCE_NOTICE_S)),
        sla_credit_tiers=default_credit_tiers(sla)
        if tiers is None
        else tuple(CreditTier(Decimal(below), Decimal(share)) for below, share in tiers),
        sla_credit_cap=Decimal(d.get("sla_credit_cap", str(DEFAULT_CAP_SHARE))),
    )


def gpu_model_row(model: GpuModel, position: int) -> Json:
    """A ``gpu_models`` row for a model the fleet adds to the built-in catalog."""
    return {
        "name": model.name,
        "position": position,
        "memory_gb": model.memory_gb,
        "tdp_w": model.tdp_w,
        "gpus_per_node": model.gpus_per_node,
        "node_power_kw": model.node_power_kw,
        "nvlink_domain_gpus": model.nvlink_domain_gpus,
        "all_in_kw_per_gpu": model.all_in_kw_per_gpu,
        "aliases": list(model.aliases),
        "sources": dict(model.sources),
        "builtin": model.builtin,
    }


def gpu_model_from_row(row: Mapping[str, Any]) -> GpuModel:
    return GpuModel(
        name=row["name"],
        memory_gb=row["memory_gb"],
        tdp_w=row["tdp_w"],
        gpus_per_node=int(row["gpus_per_node"]),
        node_power_kw=row["node_power_kw"],
        nvlink_domain_gpus=int(row["nvlink_domain_gpus"]),
        all_in_kw_per_gpu=row["all_in_kw_per_gpu"],
        aliases=tuple(row["aliases"]),
        sources=dict(row["sources"]),
        builtin=bool(row["builtin"]),
    )


def json_default(value: object) -> object:
    """For event payloads: what ``json.dumps`` cannot write by itself."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} {value!r} cannot be stored as JSON")
