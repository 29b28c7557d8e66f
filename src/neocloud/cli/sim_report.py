"""A replay's report as one self-contained HTML page (inline SVG, no script, no files):
the summary, GPUs used and offered over time, jobs waiting over time, the JCT CDF and
the per-tenant table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from neocloud.cli.sim_run import _t
from neocloud.sim.driver import Run
from neocloud.sim.report import jct_quantiles, series

WIDTH, HEIGHT, PAD = 720, 220, 48


def report_html(run: Run, doc: Mapping[str, Any]) -> str:
    s = series(run)
    days = (s.t_s - (s.t_s[0] if len(s.t_s) else 0.0)) / 86_400
    q, jct = jct_quantiles(run)
    title = f"{doc['policy']} / {doc['placement']}: {doc['trace']} on {doc['cluster']}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Simulation: {escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1rem;max-width:60rem}table{border-collapse:collapse}"
        "td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right}"
        "td:first-child,th:first-child{text-align:left}text{font-size:11px}figure{margin:1rem 0}</style>",
        f"</head><body><h1>Simulation</h1><p>{escape(title)}</p>",
        _summary(doc),
        _figure(
            "GPUs used and offered over time",
            [("used", days, s.used, "#1f6feb"), ("offered", days, s.offered, "#999")],
            "days since the first arrival",
            "GPUs",
        ),
        _figure(
            "Jobs waiting over time (most at once per bin)", [("waiting", days, s.waiting, "#d1242f")], "days", "jobs"
        ),
        _cdf(jct, q),
        _tenants(doc["per_tenant"]),
        "</body></html>\n",
    ]
    return "".join(parts)


def _summary(doc: Mapping[str, Any]) -> str:
    rows = [
        ("jobs", f"{doc['jobs']:,} ({doc['finished']:,} finished, {doc['rejected']:,} rejected)"),
        ("JCT mean / p50 / p99", f"{_t(doc['jct_mean_s'])} / {_t(doc['jct_p50_s'])} / {_t(doc['jct_p99_s'])}"),
        ("wait to start mean / p99", f"{_t(doc['queue_mean_s'])} / {_t(doc['queue_p99_s'])}"),
        ("delay mean / p99 (JCT less run time)", f"{_t(doc['delay_mean_s'])} / {_t(doc['delay_p99_s'])}"),
        ("makespan", _t(doc["makespan_s"])),
        ("utilization (fleet)", f"{doc['utilization_mean']:.1%}"),
        ("allocation ratio (offered)", f"{doc['allocation_ratio_mean']:.1%}"),
        ("fragmentation (stranded free GPUs, mean)", f"{doc['fragmentation_mean']:.1%}"),
        ("preemptions", f"{doc['preemptions']:,}"),
        ("deadline misses", f"{doc['deadline_misses']:,} of {doc['deadlines']:,}"),
        ("wall", f"{doc['wall_s']:.2f} s, {doc['cycles']:,} cycles"),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table aria-label='summary'>{body}</table>"


def _figure(title: str, lines: Sequence[tuple[str, Any, Any, str]], xlabel: str, ylabel: str) -> str:
    xs = [x for _, x, _, _ in lines if len(x)]
    if not xs:
        return f"<figure><figcaption>{escape(title)}: nothing to draw</figcaption></figure>"
    x_hi = max(float(np.max(x)) for x in xs) or 1.0
    y_hi = max(float(np.max(y)) for _, _, y, _ in lines if len(y)) or 1.0
    w, h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    svg = [f"<svg width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='{escape(title)}'>"]
    svg.append(f"<rect x='{PAD}' y='{PAD}' width='{w}' height='{h}' fill='none' stroke='#888'/>")
    for frac in (0.0, 0.5, 1.0):
        y = PAD + h - frac * h
        svg.append(f"<text x='{PAD - 4}' y='{y + 4:.0f}' text-anchor='end'>{y_hi * frac:,.0f}</text>")
        x = PAD + frac * w
        svg.append(f"<text x='{x:.0f}' y='{HEIGHT - PAD + 14}' text-anchor='middle'>{x_hi * frac:,.1f}</text>")
    for name, x, y, color in lines:
        pts = " ".join(f"{PAD + xv / x_hi * w:.1f},{PAD + h - yv / y_hi * h:.1f}" for xv, yv in zip(x, y, strict=True))
        svg.append(f"<polyline points='{pts}' fill='none' stroke='{color}'><title>{escape(name)}</title></polyline>")
    svg.append(f"<text x='{WIDTH / 2}' y='{HEIGHT - 8}' text-anchor='middle'>{escape(xlabel)}</text>")
    svg.append(f"<text x='12' y='{HEIGHT / 2}' transform='rotate(-90 12 {HEIGHT / 2})' text-anchor='middle'>")
    svg.append(f"{escape(ylabel)}</text></svg>")
    legend = ", ".join(f"<span style='color:{c}'>{escape(n)}</span>" for n, _, _, c in lines)
    return f"<figure>{''.join(svg)}<figcaption>{escape(title)}: {legend}</figcaption></figure>"


def _cdf(jct: Any, q: Any) -> str:
    finite = jct[jct > 0]
    if not len(finite):
        return "<figure><figcaption>JCT CDF: no finished job with a positive JCT</figcaption></figure>"
    lo, hi = math.floor(math.log10(float(finite.min()))), math.ceil(math.log10(float(finite.max())))
    hi = max(hi, lo + 1)
    w, h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x_of(v: float) -> float:
        return PAD + (math.log10(max(v, 10.0**lo)) - lo) / (hi - lo) * w

    svg = [f"<svg width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='JCT CDF'>"]
    svg.append(f"<rect x='{PAD}' y='{PAD}' width='{w}' height='{h}' fill='none' stroke='#888'/>")
    for decade in range(lo, hi + 1):
        svg.append(f"<text x='{x_of(10.0**decade):.0f}' y='{HEIGHT - PAD + 14}' text-anchor='middle'>1e{decade}</text>")
    for frac in (0.0, 0.5, 1.0):
        svg.append(f"<text x='{PAD - 4}' y='{PAD + h - frac * h + 4:.0f}' text-anchor='end'>{frac:.0%}</text>")
    pts = " ".join(f"{x_of(float(v)):.1f},{PAD + h - float(p) * h:.1f}" for v, p in zip(jct, q, strict=True))
    svg.append(f"<polyline points='{pts}' fill='none' stroke='#1f6feb'/>")
    svg.append(f"<text x='{WIDTH / 2}' y='{HEIGHT - 8}' text-anchor='middle'>JCT (s, log scale)</text></svg>")
    return f"<figure>{''.join(svg)}<figcaption>JCT CDF: share of finished jobs done within a JCT</figcaption></figure>"


def _tenants(rows: Sequence[Mapping[str, Any]]) -> str:
    shown = sorted((r for r in rows if r["jobs"]), key=lambda r: -r["gpu_hours"])
    head = "<tr><th>tenant</th><th>jobs</th><th>finished</th><th>GPU-hours</th><th>JCT mean</th>"
    head += "<th>queueing mean</th><th>preemptions</th></tr>"
    body = "".join(
        f"<tr><td>{escape(r['tenant'] or '(none)')}</td><td>{r['jobs']:,}</td><td>{r['finished']:,}</td>"
        f"<td>{r['gpu_hours']:,.0f}</td><td>{_t(r['jct_mean_s'])}</td><td>{_t(r['queue_mean_s'])}</td>"
        f"<td>{r['preemptions']:,}</td></tr>"
        for r in shown
    )
    return f"<h2>Per tenant</h2><table aria-label='per tenant'>{head}{body}</table>"
