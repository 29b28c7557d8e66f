"""A sweep's report as one self-contained HTML page (inline SVG, no script, no files):
what was swept, mean JCT against the load factor (a line per policy and lease
fraction, each point the mean over the seeds), the means per setting and every row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from neocloud.cli.sim_run import _t
from neocloud.sim.sweep import COLUMNS, Row, Setting, mean_over_seeds

WIDTH, HEIGHT, PAD = 720, 300, 56
COLOURS = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#57606a")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
DASH_NAMES = ("solid", "dashed", "dotted", "dash-dot")


def report_html(rows: Sequence[Row], about: Mapping[str, Any]) -> str:
    settings = mean_over_seeds(rows)
    title = f"{about['trace']} on {about['cluster']}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Sweep: {escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1rem;max-width:72rem}table{border-collapse:collapse}"
        "td,th{padding:.2rem .5rem;border-bottom:1px solid #ddd;text-align:right;font-size:13px}"
        "td:first-child,th:first-child{text-align:left}text{font-size:11px}figure{margin:1rem 0}"
        ".wide{overflow-x:auto}</style>",
        f"</head><body><h1>Sweep</h1><p>{escape(title)}</p>",
        _about(about, rows),
        _chart(settings),
        _settings(settings),
        _rows(rows),
        "</body></html>\n",
    ]
    return "".join(parts)


def _about(about: Mapping[str, Any], rows: Sequence[Row]) -> str:
    items = [
        ("points", f"{len(rows):,}"),
        ("policies", ", ".join(dict.fromkeys(r.policy for r in rows))),
        ("seeds", ", ".join(str(s) for s in dict.fromkeys(r.seed for r in rows))),
        ("load factors", ", ".join(f"{x:g}" for x in dict.fromkeys(r.load for r in rows))),
        ("lease fractions", ", ".join(f"{x:g}" for x in dict.fromkeys(r.lease_fraction for r in rows))),
        ("placement", str(about["placement"])),
        ("window", str(about["window"] or "the whole trace")),
        ("ran on", str(about["executor"])),
        ("wall", f"{about['wall_s']:.2f} s"),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in items)
    return f"<table aria-label='what was swept'>{body}</table>"


def _chart(settings: Sequence[Setting]) -> str:
    """Mean JCT (hours) against the load factor: a line per (policy, lease fraction)."""
    title = "Mean JCT against the load factor (mean over the seeds)"
    lines: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for s in settings:
        lines.setdefault((s.policy, s.lease_fraction), []).append((s.load, s.jct_mean_s / 3600))
    loads = sorted({s.load for s in settings})
    x_lo, x_hi = loads[0], loads[-1]
    x_span = (x_hi - x_lo) or 1.0
    y_hi = max((s.jct_mean_s / 3600 for s in settings), default=0.0) or 1.0
    w, h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def at(load: float, jct_h: float) -> str:
        x = PAD + (load - x_lo) / x_span * w if x_hi > x_lo else PAD + w / 2
        return f"{x:.1f},{PAD + h - jct_h / y_hi * h:.1f}"

    svg = [f"<svg width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='{escape(title)}'>"]
    svg.append(f"<rect x='{PAD}' y='{PAD}' width='{w}' height='{h}' fill='none' stroke='#888'/>")
    for frac in (0.0, 0.5, 1.0):
        svg.append(f"<text x='{PAD - 4}' y='{PAD + h - frac * h + 4:.0f}' text-anchor='end'>{y_hi * frac:,.1f}</text>")
    for load in loads:
        x = at(load, 0.0).split(",")[0]
        svg.append(f"<text x='{x}' y='{HEIGHT - PAD + 14}' text-anchor='middle'>{load:g}</text>")
    policies = list(dict.fromkeys(p for p, _ in lines))
    fractions = list(dict.fromkeys(f for _, f in lines))
    legend = []
    for (policy, fraction), points in lines.items():
        colour = COLOURS[policies.index(policy) % len(COLOURS)]
        style = fractions.index(fraction) % len(DASHES)
        dash = DASHES[style]
        name = f"{policy}, lease {fraction:g}"
        pts = " ".join(at(load, jct) for load, jct in sorted(points))
        svg.append(
            f"<polyline points='{pts}' fill='none' stroke='{colour}' stroke-width='2' stroke-dasharray='{dash}'>"
            f"<title>{escape(name)}</title></polyline>"
        )
        svg.extend(
            f"<circle cx='{p.split(',')[0]}' cy='{p.split(',')[1]}' r='3' fill='{colour}'/>" for p in pts.split()
        )
        legend.append(f"<span style='color:{colour}'>{escape(name)} ({DASH_NAMES[style]})</span>")
    svg.append(f"<text x='{WIDTH / 2}' y='{HEIGHT - 12}' text-anchor='middle'>load factor</text>")
    svg.append(f"<text x='14' y='{HEIGHT / 2}' transform='rotate(-90 14 {HEIGHT / 2})' text-anchor='middle'>")
    svg.append("mean JCT (h)</text></svg>")
    return f"<figure>{''.join(svg)}<figcaption>{escape(title)}: {', '.join(legend)}</figcaption></figure>"


def _settings(settings: Sequence[Setting]) -> str:
    head = "".join(
        f"<th>{escape(n)}</th>"
        for n in (
            "policy",
            "lease",
            "load",
            "seeds",
            "leased GPUs",
            "finished",
            "JCT mean",
            "wait mean",
            "delay mean",
            "util.",
        )
    )
    body = "".join(
        f"<tr><td>{escape(s.policy)}</td><td>{s.lease_fraction:g}</td><td>{s.load:g}</td><td>{s.seeds}</td>"
        f"<td>{s.leased_gpus:,}</td><td>{s.finished:,.1f} of {s.jobs:,.0f}</td><td>{_t(s.jct_mean_s)}</td>"
        f"<td>{_t(s.queue_mean_s)}</td><td>{_t(s.delay_mean_s)}</td><td>{s.utilization_mean:.1%}</td></tr>"
        for s in settings
    )
    return f"<h2>Mean over the seeds</h2><table aria-label='mean over the seeds'><tr>{head}</tr>{body}</table>"


def _rows(rows: Sequence[Row]) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in r.as_dict().values()) + "</tr>" for r in rows)
    table = f"<table aria-label='every point'><tr>{head}</tr>{body}</table>"
    return f"<h2>Every point</h2><div class='wide'>{table}</div>"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return escape(f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}")
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))
