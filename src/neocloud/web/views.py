"""View models of the dashboard: plain data computed from what the services return.

Pure functions (no request, no templates) so that the unit tests can check the
numbers the pages show. A node is counted in exactly one category at an instant:
its health first (``degraded``, ``failed``, ``maintenance``, ``retired``: each its
own), then what holds it (a lease, a lease's spare, an internal pool, a maintenance
window), else ``free``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from neocloud.domain.changes import StoredEvent
from neocloud.domain.clock import from_s, to_s
from neocloud.domain.fleet import Fleet, Node, summarize
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseState
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.leasing.availability import ModelAvailability
from neocloud.leasing.delivered import CapacityPoint

DAY = 86_400
CATEGORIES = ("leased", "internal", "spare", "free", "degraded", "failed", "maintenance", "retired")
#: Health states that put a node in the category of the same name, whatever holds it.
HEALTH_CATEGORIES = frozenset({Health.DEGRADED, Health.FAILED, Health.MAINTENANCE, Health.RETIRED})
#: Health events that mark a failure on the timeline.
UNHEALTHY = frozenset({Health.FAILED, Health.DEGRADED, Health.RETIRED})
#: Colour-blind friendly, distinct on white; tenants take them in name order.
PALETTE = ("#2f6fdf", "#e07b00", "#1a9e77", "#9b4dca", "#c2185b", "#00838f", "#7a8b00", "#6d4c41")
CATEGORY_COLORS = {
    "leased": "#2f6fdf",
    "internal": "#8e9bb0",
    "spare": "#9b4dca",
    "free": "#1a9e77",
    "degraded": "#ef6c00",
    "failed": "#d32f2f",
    "maintenance": "#f5a623",
    "retired": "#4f586a",
    "taken": "#8e9bb0",  # a tenant's view of a node someone else holds now (services.visibility)
}
HIDDEN_STATES = frozenset({LeaseState.CANCELLED, LeaseState.EXPIRED, LeaseState.QUOTED})


def minute_time(t_s: float | None) -> str:
    """``2027-01-01 13:45`` (UTC, to the minute), or ``""`` for no time: the queues'
    and the studies' pages."""
    return "" if t_s is None else datetime.fromtimestamp(t_s, UTC).strftime("%Y-%m-%d %H:%M")


def short_time(t_s: int | None) -> str:
    """``2027-01-01`` at midnight UTC, else ``2027-01-01 13:45``."""
    if t_s is None:
        return "-"
    dt = from_s(t_s)
    return dt.strftime("%Y-%m-%d") if (dt.hour, dt.minute, dt.second) == (0, 0, 0) else dt.strftime("%Y-%m-%d %H:%M")


def tenant_colors(tenants: Iterable[str]) -> dict[str, str]:
    """A stable colour per tenant: the same on every page and for every viewer."""
    return {name: PALETTE[k % len(PALETTE)] for k, name in enumerate(sorted(set(tenants)))}


# -- fleet overview ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SiteRow:
    name: str
    region: str
    power_used_mw: float
    power_budget_mw: float | None
    nodes: int
    gpus: int
    by_category: dict[str, int]

    @property
    def power_pct(self) -> float | None:
        if not self.power_budget_mw:
            return None
        return 100.0 * self.power_used_mw / self.power_budget_mw

    @property
    def utilization_pct(self) -> float:
        """GPUs leased or in internal pools, of all GPUs."""
        if not self.gpus:
            return 0.0
        return 100.0 * (self.by_category["leased"] + self.by_category["internal"]) / self.gpus


def holders_at(bookings: Iterable[Booking], t_s: int) -> dict[str, Booking]:
    """The booking holding each node at instant ``t_s`` (bookings of a node never overlap)."""
    return {b.node: b for b in bookings if b.start_s <= t_s < b.end_s}


def node_category(node: Node, held: Booking | None, *, taken: bool = False) -> str:
    """Its health if not healthy (``degraded``, ``failed``...), else what holds it (``taken``:
    someone the viewer may not see), else ``free``."""
    if node.health in HEALTH_CATEGORIES:
        return node.health.value
    if held is None:
        return "taken" if taken else "free"
    return {
        HolderKind.LEASE: "leased",
        HolderKind.SPARE: "spare",
        HolderKind.POOL: "internal",
        HolderKind.MAINTENANCE: "maintenance",
    }[held.kind]


def site_rows(fleet: Fleet, bookings: Iterable[Booking], t_s: int) -> tuple[list[SiteRow], SiteRow]:
    """Per site (and in total): power used against the budget and GPUs per category at ``t_s``."""
    held = holders_at(bookings, t_s)
    counts: dict[str, dict[str, int]] = {s.name: dict.fromkeys(CATEGORIES, 0) for s in fleet.sites}
    for node in fleet.nodes:
        counts[node.site][node_category(node, held.get(node.id))] += node.gpu_count
    summaries, total = summarize(fleet)
    rows = [
        SiteRow(s.name, s.region, s.power_mw_used, s.power_mw_budget, s.nodes, s.gpus, counts[s.name])
        for s in summaries
    ]
    all_counts = {c: sum(r.by_category[c] for r in rows) for c in CATEGORIES}
    return rows, SiteRow("total", "", total.power_mw_used, total.power_mw_budget, total.nodes, total.gpus, all_counts)


def overview_chart(rows: Sequence[SiteRow]) -> dict[str, object]:
    """A stacked horizontal bar chart of GPUs per category, one bar per site."""
    return {
        "type": "bar",
        "labels": [r.name for r in rows],
        "datasets": [
            {"label": c, "data": [r.by_category[c] for r in rows], "backgroundColor": CATEGORY_COLORS[c]}
            for c in CATEGORIES
        ],
        "stacked": True,
        "horizontal": True,
    }


def availability_chart(rows: Sequence[ModelAvailability], end_s: int) -> dict[str, object]:
    """Free healthy GPUs per model over the window, as step lines (x in epoch milliseconds)."""
    datasets = []
    for k, r in enumerate(rows):
        points = [{"x": t * 1000, "y": v} for t, v in r.series]
        if r.series:
            points.append({"x": end_s * 1000, "y": r.series[-1][1]})
        datasets.append({"label": r.model, "data": points, "borderColor": PALETTE[k % len(PALETTE)]})
    start = min((r.series[0][0] for r in rows if r.series), default=end_s)
    return {"type": "step", "datasets": datasets, "ylabel": "free GPUs", "xmin": start * 1000, "xmax": end_s * 1000}


# -- leases --------------------------------------------------------------------------
def lease_site(lease: Lease, bookings: Iterable[Booking], node_site: dict[str, str]) -> str:
    """The site of a lease: where its nodes are (else the site it asked for)."""
    sites = sorted({node_site[b.node] for b in bookings if b.holder == lease.id and b.node in node_site})
    if sites:
        return ", ".join(sites)
    return lease.request.shape.site or "unplaced"


#: Lease states that end a lease before its start: it delivered and owed nothing.
NEVER_STARTED = frozenset({LeaseState.CANCELLED, LeaseState.EXPIRED})


@dataclass(frozen=True, slots=True)
class Shortfall:
    """What a lease's delivered-healthy GPUs fell short of its contract, from its start
    up to ``measured_to_s`` (now, or its end): GPUs missing over time and delivered %.

    ``status``: ``measured``, ``not_started`` (it starts later) or ``never_started``
    (cancelled or expired first); only a measured lease has numbers and a ``chart``.
    GPU counts are at the last measured instant (``_now``) or the worst (``worst_``).
    """

    status: str
    message: str
    measured_to_s: int
    contracted_now: int = 0
    missing_now: int = 0
    worst_missing: int = 0
    worst_at_s: int | None = None
    contracted_gpu_s: int = 0
    missing_gpu_s: int = 0
    chart: dict[str, object] | None = None

    @property
    def missing_gpu_hours(self) -> Decimal:
        return Decimal(self.missing_gpu_s) / 3600

    @property
    def delivered_pct(self) -> str:
        """Delivered of contracted GPU-hours since the start."""
        return delivered_percent(self.missing_gpu_s, self.contracted_gpu_s)

    @property
    def delivered_pct_now(self) -> str:
        return delivered_percent(self.missing_now, self.contracted_now)


def shortfall(lease: Lease, capacity: Sequence[CapacityPoint], now_s: int) -> Shortfall:
    """The lease page's delivery view from the service's step series ``capacity``
    (contracted and delivered GPUs from each point to the next). Delivery above the
    contract at an instant does not make up for a shortfall at another."""
    if lease.state in NEVER_STARTED:
        when = short_time(lease.start_s)
        return Shortfall("never_started", f"Never started: {lease.state.value} before its start ({when} UTC).", 0)
    if now_s < lease.start_s or not capacity:
        when = short_time(lease.start_s)
        return Shortfall("not_started", f"Not started: it starts {when} UTC; delivery is measured from then.", 0)
    until = min(now_s, lease.end_s)
    steps = [(p, end - p.t_s) for p, end in _spans(capacity, until) if p.t_s < until]
    missing = [max(0, p.contracted - p.delivered) for p, _ in steps]
    worst = max(missing, default=0)
    # what holds at the instant ``until`` (a failure recorded now counts now)
    last = next((p for p in reversed(capacity) if p.t_s <= until), capacity[0])
    term = f"; the term runs to {short_time(lease.end_s)} UTC." if until < lease.end_s else ", the end of the term."
    return Shortfall(
        "measured",
        f"From the start ({short_time(lease.start_s)}) to {short_time(until)} UTC{term}",
        until,
        contracted_now=last.contracted,
        missing_now=max(0, last.contracted - last.delivered),
        worst_missing=worst,
        worst_at_s=next(p.t_s for (p, _), m in zip(steps, missing, strict=True) if m == worst) if worst else None,
        contracted_gpu_s=sum(p.contracted * span for p, span in steps),
        missing_gpu_s=sum(m * span for (_, span), m in zip(steps, missing, strict=True)),
        chart=_shortfall_chart(lease.start_s, until, [p for p, _ in steps], missing, worst),
    )


def delivered_percent(missing: int, whole: int) -> str:
    """``100 * (whole - missing) / whole`` rounded down to 2 decimals, so that it never
    reads 100% while anything is missing (``100%`` only then; ``-`` of nothing)."""
    if whole <= 0:
        return "-"
    if missing <= 0:
        return "100%"
    return f"{Decimal((whole - missing) * 10_000 // whole).scaleb(-2)}%"


def _spans(capacity: Sequence[CapacityPoint], until_s: int) -> list[tuple[CapacityPoint, int]]:
    """Each point with where its step ends: the next point, or ``until_s`` for the last."""
    ends = [min(nxt.t_s, until_s) for nxt in capacity[1:]] + [until_s]
    return list(zip(capacity, ends, strict=True))


def _shortfall_chart(
    start_s: int, until_s: int, points: list[CapacityPoint], missing: list[int], worst: int
) -> dict[str, object]:
    """GPUs missing as a step line (x in epoch ms) on an axis of its own size, each
    step noting the delivered % of that moment."""
    data: list[dict[str, object]] = [
        {"x": p.t_s * 1000, "y": m, "note": f"{delivered_percent(m, p.contracted)} delivered"}
        for p, m in zip(points, missing, strict=True)
    ]
    if data:
        data.append({**data[-1], "x": until_s * 1000})
    return {
        "type": "step",
        "ylabel": "GPUs missing",
        "ymax": max(worst, 1),
        "integer": True,
        "xmin": start_s * 1000,
        "xmax": until_s * 1000,
        "datasets": [
            {"label": "GPUs contracted, not delivered healthy", "data": data, "borderColor": "#d32f2f", "fill": True}
        ],
    }


# -- timeline ------------------------------------------------------------------------
LABEL_W = 230
CHART_W = 900
ROW_H = 26
HEAD_H = 30


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    kind: str  # "failure" or "maintenance"
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    color: str
    title: str
    href: str | None = None
    lease_id: str | None = None
    held: bool = False
    degraded: bool = False
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True, slots=True)
class TimelineRow:
    label: str
    sublabel: str
    bars: tuple[Bar, ...]
    y: int = 0


@dataclass(slots=True)
class SiteLane:
    site: str
    rows: list[TimelineRow] = field(default_factory=list)
    y: int = 0


@dataclass(frozen=True, slots=True)
class Timeline:
    start_s: int
    end_s: int
    width: int
    height: int
    label_w: int
    ticks: tuple[tuple[float, str], ...]  # (x, month name or "" for a gridline only)
    now_x: float | None
    lanes: tuple[SiteLane, ...]
    legend: tuple[tuple[str, str], ...]

    @property
    def lease_count(self) -> int:
        return sum(1 for lane in self.lanes for row in lane.rows for bar in row.bars if bar.lease_id)


def timeline_window(now_s: int, months: int) -> tuple[int, int]:
    """From a week before today (midnight UTC) to ``months`` months of 30 days after."""
    today = from_s(now_s).replace(hour=0, minute=0, second=0, microsecond=0)
    start = to_s(today - timedelta(days=7))
    return start, to_s(today + timedelta(days=30 * months))


#: Month labels: 11 px text (``.ticklabel`` in style.css) drawn ``TICK_DX`` px right of
#: its gridline; at most 0.66 em per character in the fonts we name (DejaVu Sans, the
#: widest, averages 0.6 em on "May 2027"), and at least ``TICK_GAP`` px between two.
TICK_FONT_PX = 11
TICK_EM_PER_CHAR = 0.66
TICK_DX = 4
TICK_GAP = 8
#: Label every n-th month, n the first of these that leaves room (calendar-aligned).
MONTH_STEPS = (1, 2, 3, 4, 6, 12)


def tick_label_width(label: str) -> float:
    """An upper bound of the drawn width of a month label, in px of the SVG."""
    return len(label) * TICK_FONT_PX * TICK_EM_PER_CHAR


def _month_ticks(start_s: int, end_s: int, scale: float, width: int) -> tuple[tuple[float, str], ...]:
    """A gridline at each month in the window; its name ("Jan 2027") on every n-th
    month, n the smallest step at which no two names overlap (``""``: line only)."""
    months = []
    dt = from_s(start_s).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while to_s(dt) < end_s:
        if to_s(dt) >= start_s:
            months.append((LABEL_W + (to_s(dt) - start_s) * scale, dt.month, dt.strftime("%b %Y")))
        dt = dt.replace(year=dt.year + 1, month=1) if dt.month == 12 else dt.replace(month=dt.month + 1)
    for step in MONTH_STEPS:
        named = [(x, label) for x, month, label in months if (month - 1) % step == 0]
        named = [(x, label) for x, label in named if x + TICK_DX + tick_label_width(label) <= width]
        if all(x + tick_label_width(a) + TICK_GAP <= nx for (x, a), (nx, _) in itertools.pairwise(named)):
            break
    shown = dict(named)
    return tuple((x, shown.get(x, "")) for x, _, _ in months)


def failure_times(events: Iterable[StoredEvent]) -> list[tuple[str, int, str]]:
    """``(node, at_s, reason)`` of health events that took a node out of service."""
    out = []
    for stored in events:
        e = stored.event
        if e.node is None or not e.kind.startswith("node."):
            continue
        if e.kind.removeprefix("node.") not in {h.value for h in UNHEALTHY}:
            continue
        after = e.after or {}
        at = after.get("at", e.at_s)
        out.append((e.node, int(at) if isinstance(at, int) else e.at_s, str(after.get("reason", e.kind))))
    return out


def build_timeline(
    fleet: Fleet,
    leases: Sequence[Lease],
    bookings: Sequence[Booking],
    *,
    failures: Sequence[tuple[str, int, str]],
    colors: dict[str, str],
    window: tuple[int, int],
    now_s: int,
    operator: bool,
) -> Timeline:
    """Gantt rows per site: one per lease (coloured by tenant, failures marked), and for
    the operator one per internal pool and one of maintenance windows."""
    start_s, end_s = window
    scale = CHART_W / (end_s - start_s)
    node_site = {n.id: n.site for n in fleet.nodes}

    def x_of(t: int) -> float:
        return LABEL_W + (min(max(t, start_s), end_s) - start_s) * scale

    lanes: dict[str, SiteLane] = {s.name: SiteLane(s.name) for s in fleet.sites}
    by_holder: dict[str, list[Booking]] = {}
    for b in bookings:
        by_holder.setdefault(b.holder, []).append(b)
    for lease in sorted(leases, key=lambda le: (le.start_s, le.tenant, le.id)):
        if lease.state in HIDDEN_STATES or lease.end_s <= start_s or lease.start_s >= end_s:
            continue
        mine = by_holder.get(lease.id, [])
        site = lease_site(lease, mine, node_site).split(", ")[0]
        marks = tuple(
            Mark(x_of(at), "failure", f"{short_time(at)} {node}: {reason}")
            for node, at, reason in failures
            if start_s <= at < end_s and any(b.node == node and b.start_s <= at <= b.end_s for b in mine)
        )
        title = (
            f"{lease.id} · {lease.tenant} · {lease.gpus:,} × {lease.model} · "
            f"{short_time(lease.start_s)} → {short_time(lease.end_s)} · {lease.state.value}"
            + (" · degraded" if lease.degraded else "")
        )
        bar = Bar(
            x_of(lease.start_s),
            max(x_of(lease.end_s) - x_of(lease.start_s), 2.0),
            colors.get(lease.tenant, PALETTE[0]),
            title,
            href=f"/leases/{lease.id}",
            lease_id=lease.id,
            held=lease.state is LeaseState.HELD,
            degraded=lease.degraded,
            marks=marks,
        )
        lane = lanes.setdefault(site, SiteLane(site))
        lane.rows.append(TimelineRow(lease.tenant, f"{lease.gpus:,} × {lease.model}", (bar,)))
    if operator:
        _internal_rows(lanes, by_holder, node_site, x_of)
    y = HEAD_H
    kept = []
    for lane in lanes.values():
        if not lane.rows:
            continue
        lane.y = y
        y += ROW_H  # the site's heading row
        placed = []
        for row in lane.rows:
            placed.append(TimelineRow(row.label, row.sublabel, row.bars, y))
            y += ROW_H
        lane.rows = placed
        kept.append(lane)
    legend = tuple(sorted({(r.label, r.bars[0].color) for lane in kept for r in lane.rows if r.bars[0].lease_id}))
    now_x = x_of(now_s) if start_s <= now_s < end_s else None
    width = LABEL_W + CHART_W + 10
    return Timeline(
        start_s, end_s, width, y + 10, LABEL_W, _month_ticks(start_s, end_s, scale, width), now_x,
        tuple(kept), legend,
    )  # fmt: skip


def _internal_rows(
    lanes: dict[str, SiteLane],
    by_holder: dict[str, list[Booking]],
    node_site: dict[str, str],
    x_of: Callable[[int], float],
) -> None:
    maintenance: dict[str, list[Booking]] = {}
    for holder, held in sorted(by_holder.items()):
        kind = held[0].kind
        if kind is HolderKind.POOL:
            site = node_site.get(held[0].node, "unplaced")
            first, last = min(b.start_s for b in held), max(b.end_s for b in held)
            nodes = len({b.node for b in held})
            bar = Bar(
                x_of(first),
                max(x_of(last) - x_of(first), 2.0),
                CATEGORY_COLORS["internal"],
                f"internal pool {holder} · {nodes} nodes · {short_time(first)} → {short_time(last)}",
            )
            lanes.setdefault(site, SiteLane(site)).rows.append(TimelineRow(f"pool {holder}", f"{nodes} nodes", (bar,)))
        elif kind is HolderKind.MAINTENANCE:
            for b in held:
                maintenance.setdefault(node_site.get(b.node, "unplaced"), []).append(b)
    for site, windows in sorted(maintenance.items()):
        bars = tuple(
            Bar(
                x_of(b.start_s),
                max(x_of(b.end_s) - x_of(b.start_s), 3.0),
                CATEGORY_COLORS["maintenance"],
                f"maintenance {b.node} · {short_time(b.start_s)} → {short_time(b.end_s)}",
            )
            for b in sorted(windows, key=lambda b: b.start_s)
        )
        lanes.setdefault(site, SiteLane(site)).rows.append(
            TimelineRow("maintenance", f"{len(windows)} window(s)", bars)
        )


# -- nodes ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NodeRow:
    node: Node
    category: str
    holder: Booking | None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[NodeRow]
    page: int
    pages: int
    total: int


def node_rows(
    fleet: Fleet,
    bookings: Iterable[Booking],
    t_s: int,
    *,
    site: str | None = None,
    state: str | None = None,
    model: str | None = None,
    only: set[str] | None = None,
    taken: set[str] | frozenset[str] = frozenset(),
) -> list[NodeRow]:
    """Nodes (filtered by site, health state and GPU model; ``only``: these ids) with what
    holds them now. ``bookings`` are those the viewer may see; ``taken`` the nodes held
    now by someone it may not (shown as ``taken``, without the holder)."""
    held = holders_at(bookings, t_s)
    return [
        NodeRow(n, node_category(n, held.get(n.id), taken=n.id in taken), held.get(n.id))
        for n in fleet.nodes
        if (site is None or n.site == site)
        and (state is None or n.health.value == state)
        and (model is None or n.gpu_model == model)
        and (only is None or n.id in only)
    ]


def paginate(rows: list[NodeRow], page: int, per_page: int) -> Page:
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    return Page(rows[(page - 1) * per_page : page * per_page], page, pages, len(rows))


# The instants of event payloads (seconds in the log), as api/schemas.py _INSTANT_KEYS.
TIME_KEYS = frozenset({"start", "end", "from", "at", "expires", "effective"})


def event_summary(before: dict[str, object] | None, after: dict[str, object] | None) -> str:
    """What changed, compactly: ``state: held -> confirmed; health: healthy -> failed``."""
    before, after = before or {}, after or {}
    parts = []
    for key, new in after.items():
        old = before.get(key)
        if old == new:
            continue
        show = _show_time if key in TIME_KEYS else (_show_contract if key == "contract" else _show_value)
        parts.append(f"{key}: {show(old)} → {show(new)}" if key in before else f"{key}: {show(new)}")
    return "; ".join(parts)


def _show_time(value: object) -> str:
    return short_time(value) if isinstance(value, int) else str(value)


def _show_value(value: object) -> str:
    """A list (a degraded lease's nodes) as ``a, b``, not Python's ``['a', 'b']``."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _show_contract(value: object) -> str:
    if not isinstance(value, list):
        return str(value)
    return ", ".join(
        f"{seg[2]:,} GPUs {short_time(seg[0])} → {short_time(seg[1])}"
        if isinstance(seg, list | tuple) and len(seg) == 3
        else str(seg)
        for seg in value
    )
