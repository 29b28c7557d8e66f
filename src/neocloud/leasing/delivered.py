"""Delivered-healthy capacity of a lease over time, against its contract.

Delivered GPUs at ``t`` = GPUs of the nodes booked to the lease at ``t`` (not its
spares) that are healthy at ``t``. Health over time comes from the node health log
(a node is healthy before its first record). Billing reads these series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from neocloud.domain.health import Health
from neocloud.domain.leases import Lease
from neocloud.domain.ledger import FOREVER_S, Booking, HolderKind


@dataclass(frozen=True, slots=True)
class CapacityPoint:
    """From ``t_s`` until the next point: contracted and delivered-healthy GPUs."""

    t_s: int
    contracted: int
    delivered: int


def delivered_series(
    lease: Lease,
    bookings: Iterable[Booking],
    node_gpus: Mapping[str, int],
    health_log: Iterable[tuple[str, int, Health]],
    until_s: int | None = None,
) -> list[CapacityPoint]:
    """Step series over ``[lease.start_s, min(lease.end_s, until_s))``."""
    end = lease.end_s if until_s is None else min(lease.end_s, until_s)
    start = lease.start_s
    if end <= start:
        return []
    healthy_spans = _healthy_spans(health_log)
    deltas: dict[int, int] = {start: 0}
    for b in bookings:
        if b.kind is not HolderKind.LEASE or b.holder != lease.id:
            continue
        for s, e in _intersect((max(b.start_s, start), min(b.end_s, end)), healthy_spans.get(b.node)):
            deltas[s] = deltas.get(s, 0) + node_gpus[b.node]
            deltas[e] = deltas.get(e, 0) - node_gpus[b.node]
    for seg in lease.contract:
        deltas.setdefault(seg.start_s, 0)
    points: list[CapacityPoint] = []
    level = 0
    for t in sorted(deltas):
        level += deltas[t]
        if t >= end:
            break
        if t >= start:
            points.append(CapacityPoint(t, lease.contracted_at(t), level))
    return points


def shortfall_gpu_hours(points: list[CapacityPoint], end_s: int) -> tuple[float, float]:
    """Contracted and delivered GPU-hours from a series ending at ``end_s``."""
    contracted = delivered = 0.0
    for p, nxt in zip(points, [*points[1:], None], strict=True):
        span = ((nxt.t_s if nxt else end_s) - p.t_s) / 3600
        contracted += p.contracted * span
        delivered += p.delivered * span
    return contracted, delivered


def down_spans(log: Iterable[tuple[str, int, Health]]) -> dict[str, list[tuple[int, int, Health]]]:
    """Per node with records: the spans ``[start_s, end_s, state)`` during which it was
    not healthy, one per state it was in (failed then maintenance is two spans; a span
    still open ends at :data:`FOREVER_S`). A node is healthy before its first record;
    records are read in order. THE reading of the health log: delivered series and
    billing's metering both use it."""
    spans: dict[str, list[tuple[int, int, Health]]] = {}
    open_: dict[str, tuple[int, Health]] = {}
    for node, at_s, state in log:
        spans.setdefault(node, [])
        current = open_.get(node)
        if current is not None and current[1] is state:
            continue
        if current is not None:
            del open_[node]
            if at_s > current[0]:
                spans[node].append((current[0], at_s, current[1]))
        if state is not Health.HEALTHY:
            open_[node] = (at_s, state)
    for node, (since, state) in open_.items():
        spans[node].append((since, FOREVER_S, state))
    return spans


def _healthy_spans(log: Iterable[tuple[str, int, Health]]) -> dict[str, list[tuple[int, int]]]:
    """Per node with records: the spans during which it was healthy (the gaps between
    its :func:`down_spans`)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for node, down in down_spans(log).items():
        healthy, cursor = [], -FOREVER_S
        for s, e, _ in down:
            if s > cursor:
                healthy.append((cursor, s))
            cursor = e
        if cursor < FOREVER_S:
            healthy.append((cursor, FOREVER_S))
        out[node] = healthy
    return out


def _intersect(span: tuple[int, int], healthy: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
    s, e = span
    if s >= e:
        return []
    if healthy is None:
        return [(s, e)]
    out = []
    for hs, he in healthy:
        lo, hi = max(s, hs), min(e, he)
        if lo < hi:
            out.append((lo, hi))
    return out
