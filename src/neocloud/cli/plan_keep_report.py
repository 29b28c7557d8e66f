"""A keep-vs-lease study as one self-contained HTML page (inline SVG, no script): the
frontier (the internal work's mean delay, JCT less run time, against the lease's NPV, a point per
fraction leased), the recommendation, and the table per fraction."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from neocloud.cli.plan_keep_selling import sold_text

WIDTH, HEIGHT, PAD = 720, 300, 64


def report_html(doc: Mapping[str, Any]) -> str:
    options = doc["options"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Keep or lease</title>",
        "<style>body{font-family:sans-serif;margin:1rem;max-width:64rem}table{border-collapse:collapse}"
        "td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right}"
        "td:first-child,th:first-child{text-align:left}text{font-size:11px}figure{margin:1rem 0}</style>",
        "</head><body><h1>Keep or lease</h1>",
        f"<p>Sold: {escape(sold_text(doc))}; internal jobs"
        f" at {doc['internal_scale']:,.1f}x their GPUs, arrivals x{doc['internal_load']:g}.</p>",
        f"<p><strong>Recommendation:</strong> {escape(doc['recommendation'])}</p>",
        _frontier(options, doc["max_delay_hours"], doc["currency"]),
        _table(options, doc["currency"]),
        "</body></html>\n",
    ]
    return "".join(parts)


def _frontier(options: list[Mapping[str, Any]], bound_h: float, currency: str) -> str:
    xs = [o["internal"]["delay_mean_s"] / 3600 for o in options]
    ys = [float(o["lease"]["npv"]) / 1e9 for o in options]
    x_hi = max([*xs, bound_h]) * 1.1 or 1.0
    y_lo, y_hi = min([*ys, 0.0]), max([*ys, 0.0])
    span = (y_hi - y_lo) or 1.0
    w, h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def px(x: float) -> float:
        return PAD + x / x_hi * w

    def py(y: float) -> float:
        return PAD + h - (y - y_lo) / span * h

    svg = [f"<svg width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='frontier'>"]
    svg.append(f"<rect x='{PAD}' y='{PAD}' width='{w}' height='{h}' fill='none' stroke='#888'/>")
    bx = px(bound_h)
    svg.append(f"<line x1='{bx:.1f}' y1='{PAD}' x2='{bx:.1f}' y2='{PAD + h}' stroke='#d1242f' stroke-dasharray='4'/>")
    svg.append(f"<text x='{bx + 4:.1f}' y='{PAD + 12}'>delay bound {bound_h:g} h</text>")
    for frac in (0.0, 0.5, 1.0):
        svg.append(f"<text x='{PAD - 6}' y='{py(y_lo + frac * span) + 4:.0f}' text-anchor='end'>")
        svg.append(f"{y_lo + frac * span:,.1f}</text>")
        svg.append(
            f"<text x='{px(frac * x_hi):.0f}' y='{HEIGHT - PAD + 16}' text-anchor='middle'>{frac * x_hi:,.1f}</text>"
        )
    pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    svg.append(f"<polyline points='{pts}' fill='none' stroke='#1f6feb'/>")
    for o, x, y in zip(options, xs, ys, strict=True):
        svg.append(f"<circle cx='{px(x):.1f}' cy='{py(y):.1f}' r='4' fill='#1f6feb'><title>{o['fraction']:.0%} leased")
        svg.append(f"</title></circle><text x='{px(x) + 6:.1f}' y='{py(y) - 6:.1f}'>{o['fraction']:.0%}</text>")
    svg.append(f"<text x='{WIDTH / 2}' y='{HEIGHT - 12}' text-anchor='middle'>")
    svg.append("internal mean delay (JCT - run time), h</text>")
    svg.append(f"<text x='14' y='{HEIGHT / 2}' transform='rotate(-90 14 {HEIGHT / 2})' text-anchor='middle'>")
    svg.append(f"lease NPV, billion {escape(currency)}</text></svg>")
    caption = "The frontier: each point a fraction of the candidates leased"
    return f"<figure>{''.join(svg)}<figcaption>{caption}</figcaption></figure>"


def _table(options: list[Mapping[str, Any]], currency: str) -> str:
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
            f"<td>{i['jct_mean_s'] / 3600:,.2f}</td><td>{i['queue_mean_s'] / 3600:,.2f}</td>"
            f"<td>{i['delay_mean_s'] / 3600:,.2f}</td>"
            f"<td>{i['unfinished']:,}</td>"
            f"<td>{float(lease['total_revenue']):,.0f}</td><td>{float(lease['npv']):,.0f}</td>"
            f"<td>{lease['gross_margin']:.1%}</td><td>{float(lease['revenue_at_risk']):,.0f}</td>"
            f"<td>{lease['top1_share']:.0%}</td><td>{lease['hhi']:,.0f}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"
