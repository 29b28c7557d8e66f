"""The studies' charts and tables as HTML fragments (inline SVG, no script), shared by the
CLI's self-contained pages (``plan keep-vs-lease --report``, ``sim sweep --report``) and
the dashboard's ``/studies/{id}``. No framework here (like ``palette.py``), so a CLI
command that writes a page does not load the web stack. Every text is escaped.

A figure that is not a number (a mean over no finished job: NaN from the simulator,
``null`` in a stored document) is left out of a chart and shown as ``-`` in a table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from neocloud.sim.sweep import Setting

WIDTH, HEIGHT, PAD = 720, 300, 64
COLOURS = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#57606a")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
DASH_NAMES = ("solid", "dashed", "dotted", "dash-dot")


def number(value: Any) -> float:
    """A stored figure as a float; ``None`` (not a number when stored) as NaN."""
    return math.nan if value is None else float(value)


def duration(seconds: float | None) -> str:
    """Seconds as ``s``, ``h`` or ``d`` (the sweep's tables); ``-`` for no figure."""
    s = number(seconds)
    if math.isnan(s):
        return "-"
    if s >= 86_400:
        return f"{s / 86_400:,.1f} d"
    if s >= 3_600:
        return f"{s / 3_600:,.1f} h"
    return f"{s:,.0f} s"


def _hours(seconds: Any) -> str:
    s = number(seconds)
    return "-" if math.isnan(s) else f"{s / 3600:,.2f}"


# -- keep or lease ----------------------------------------------------------------------
def frontier_svg(options: Sequence[Mapping[str, Any]], bound_h: float, currency: str) -> str:
    """The frontier: the internal work's mean delay (JCT less run time, hours) against the
    lease's NPV (in billions, millions or units, whichever its largest reads in), a point
    per fraction leased, the delay bound drawn."""
    largest = max((abs(float(o["lease"]["npv"])) for o in options), default=0.0)
    div, unit = next(((d, u) for d, u in ((1e9, "billion "), (1e6, "million ")) if largest >= d), (1.0, ""))
    points = [
        (o, number(o["internal"]["delay_mean_s"]) / 3600, float(o["lease"]["npv"]) / div)
        for o in options
        if not math.isnan(number(o["internal"]["delay_mean_s"]))
    ]
    xs, ys = [x for _, x, _ in points], [y for _, _, y in points]
    x_hi = max([*xs, bound_h]) * 1.1 or 1.0
    y_lo, y_hi = min([*ys, 0.0]), max([*ys, 0.0])
    span = (y_hi - y_lo) or 1.0
    w, h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def px(x: float) -> float:
        return PAD + x / x_hi * w

    def py(y: float) -> float:
        return PAD + h - (y - y_lo) / span * h

    svg = [
        f"<svg class='frontier' width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}' role='img'"
        " aria-label='frontier: internal mean delay against lease NPV'>"
    ]
    svg.append(f"<rect x='{PAD}' y='{PAD}' width='{w}' height='{h}' fill='none' stroke='#888'/>")
    bx = px(bound_h)
    svg.append(f"<line x1='{bx:.1f}' y1='{PAD}' x2='{bx:.1f}' y2='{PAD + h}' stroke='#d1242f' stroke-dasharray='4'/>")
    svg.append(f"<text x='{bx + 4:.1f}' y='{PAD + 12}' font-size='11'>delay bound {bound_h:g} h</text>")
    for frac in (0.0, 0.5, 1.0):
        svg.append(f"<text x='{PAD - 6}' y='{py(y_lo + frac * span) + 4:.0f}' text-anchor='end' font-size='11'>")
        svg.append(f"{y_lo + frac * span:,.{1 if span >= 10 else 3}f}</text>")
        svg.append(
            f"<text x='{px(frac * x_hi):.0f}' y='{HEIGHT - PAD + 16}' text-anchor='middle' font-size='11'>"
            f"{frac * x_hi:,.1f}</text>"
        )
    if points:
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
        svg.append(f"<polyline points='{pts}' fill='none' stroke='#1f6feb'/>")
    for o, x, y in points:
        label = f"{o['fraction']:.0%}"
        svg.append(f"<circle cx='{px(x):.1f}' cy='{py(y):.1f}' r='4' fill='#1f6feb'><title>{label} leased: ")
        svg.append(f"{x:,.2f} h delay, NPV {y:,.3f} {unit}{escape(currency)}</title></circle>")
        svg.append(f"<text x='{px(x) + 6:.1f}' y='{py(y) - 6:.1f}' font-size='11'>{label}</text>")
    svg.append(f"<text x='{WIDTH / 2}' y='{HEIGHT - 12}' text-anchor='middle' font-size='11'>")
    svg.append("internal mean delay (JCT - run time), h</text>")
    svg.append(
        f"<text x='14' y='{HEIGHT / 2}' transform='rotate(-90 14 {HEIGHT / 2})' text-anchor='middle' font-size='11'>"
    )
    svg.append(f"lease NPV, {unit}{escape(currency)}</text></svg>")
    caption = "The frontier: each point a fraction of the candidates leased"
    left_out = len(options) - len(points)
    if left_out:
        caption += f" ({left_out} left out: no internal job finished)"
    return f"<figure>{''.join(svg)}<figcaption>{escape(caption)}</figcaption></figure>"


def keep_table(options: Sequence[Mapping[str, Any]], currency: str) -> str:
    """The study per fraction leased: what stays, the internal work, the lease's economics."""
    head = (
        "<tr><th>leased</th><th>units</th><th>kept GPUs</th><th>JCT mean h</th><th>wait mean h</th>"
        "<th>delay mean h</th>"
        f"<th>unfinished</th><th>revenue ({escape(currency)})</th><th>NPV</th><th>margin</th><th>at risk</th>"
        "<th>top-1</th><th>HHI</th></tr>"
    )
    rows = []
    for o in options:
        i, lease = o["internal"], o["lease"]
        units = ", ".join(o["leased_units"][:4]) + (" ..." if len(o["leased_units"]) > 4 else "")
        rows.append(
            f"<tr><td>{o['fraction']:.0%}</td><td>{escape(units)}</td><td>{o['kept_gpus']:,}</td>"
            f"<td>{_hours(i['jct_mean_s'])}</td><td>{_hours(i['queue_mean_s'])}</td>"
            f"<td>{_hours(i['delay_mean_s'])}</td>"
            f"<td>{i['unfinished']:,}</td>"
            f"<td>{float(lease['total_revenue']):,.0f}</td><td>{float(lease['npv']):,.0f}</td>"
            f"<td>{lease['gross_margin']:.1%}</td><td>{float(lease['revenue_at_risk']):,.0f}</td>"
            f"<td>{lease['top1_share']:.0%}</td><td>{lease['hhi']:,.0f}</td></tr>"
        )
    return f"<table class='grid' aria-label='per fraction leased'>{head}{''.join(rows)}</table>"


# -- sweeps -----------------------------------------------------------------------------
def sweep_svg(settings: Sequence[Setting]) -> str:
    """Mean JCT (hours) against the load factor: a line per (policy, lease fraction),
    each point the mean over the seeds."""
    title = "Mean JCT against the load factor (mean over the seeds)"
    lines: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for s in settings:
        if not math.isnan(s.jct_mean_s):
            lines.setdefault((s.policy, s.lease_fraction), []).append((s.load, s.jct_mean_s / 3600))
    loads = sorted({s.load for s in settings}) or [1.0]
    x_lo, x_hi = loads[0], loads[-1]
    x_span = (x_hi - x_lo) or 1.0
    y_hi = max((jct for pts in lines.values() for _, jct in pts), default=0.0) or 1.0
    pad = 56
    w, h = WIDTH - 2 * pad, HEIGHT - 2 * pad

    def at(load: float, jct_h: float) -> tuple[float, float]:
        x = pad + (load - x_lo) / x_span * w if x_hi > x_lo else pad + w / 2
        return x, pad + h - jct_h / y_hi * h

    svg = [
        f"<svg class='sweep' width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}' role='img'"
        f" aria-label='{escape(title)}'>"
    ]
    svg.append(f"<rect x='{pad}' y='{pad}' width='{w}' height='{h}' fill='none' stroke='#888'/>")
    for frac in (0.0, 0.5, 1.0):
        svg.append(
            f"<text x='{pad - 4}' y='{pad + h - frac * h + 4:.0f}' text-anchor='end' font-size='11'>"
            f"{y_hi * frac:,.1f}</text>"
        )
    for load in loads:
        svg.append(
            f"<text x='{at(load, 0.0)[0]:.1f}' y='{HEIGHT - pad + 14}' text-anchor='middle' font-size='11'>"
            f"{load:g}</text>"
        )
    policies = list(dict.fromkeys(p for p, _ in lines))
    fractions = list(dict.fromkeys(f for _, f in lines))
    legend = []
    for (policy, fraction), points in lines.items():
        colour = COLOURS[policies.index(policy) % len(COLOURS)]
        style = fractions.index(fraction) % len(DASHES)
        name = f"{policy}, lease {fraction:g}"
        xy = [at(load, jct) for load, jct in sorted(points)]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        svg.append(
            f"<polyline points='{pts}' fill='none' stroke='{colour}' stroke-width='2'"
            f" stroke-dasharray='{DASHES[style]}'><title>{escape(name)}</title></polyline>"
        )
        svg.extend(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'/>" for x, y in xy)
        legend.append(f"<span style='color:{colour}'>{escape(name)} ({DASH_NAMES[style]})</span>")
    svg.append(f"<text x='{WIDTH / 2}' y='{HEIGHT - 12}' text-anchor='middle' font-size='11'>load factor</text>")
    svg.append(
        f"<text x='14' y='{HEIGHT / 2}' transform='rotate(-90 14 {HEIGHT / 2})' text-anchor='middle' font-size='11'>"
    )
    svg.append("mean JCT (h)</text></svg>")
    return f"<figure>{''.join(svg)}<figcaption>{escape(title)}: {', '.join(legend)}</figcaption></figure>"


def settings_table(settings: Sequence[Setting]) -> str:
    """The means over the seeds, a row per (policy, lease fraction, load)."""
    names = ("policy", "lease", "load", "seeds", "leased GPUs", "finished", "JCT mean", "wait mean", "delay mean")
    head = "".join(f"<th>{escape(n)}</th>" for n in (*names, "util."))
    body = "".join(
        f"<tr><td>{escape(s.policy)}</td><td>{s.lease_fraction:g}</td><td>{s.load:g}</td><td>{s.seeds}</td>"
        f"<td>{s.leased_gpus:,}</td><td>{s.finished:,.1f} of {s.jobs:,.0f}</td><td>{duration(s.jct_mean_s)}</td>"
        f"<td>{duration(s.queue_mean_s)}</td><td>{duration(s.delay_mean_s)}</td><td>{s.utilization_mean:.1%}</td></tr>"
        for s in settings
    )
    return f"<table class='grid' aria-label='mean over the seeds'><tr>{head}</tr>{body}</table>"
