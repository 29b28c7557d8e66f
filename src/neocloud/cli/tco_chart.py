"""The TCO breakdown as a self-contained HTML page: an inline SVG stacked bar per GPU model
(USD per GPU-hour, GPU-weighted over its sites) and the numbers as a table. No script, no
network: the file opens anywhere."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from neocloud.economics.cost import LINE_LABELS, FleetTco
from neocloud.web.palette import LINE_COLOURS as COLOURS

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 320, 56, 40, 16


def page(result: FleetTco, version: str) -> str:
    """The HTML page for ``result`` (assumptions ``version`` in its title)."""
    title = f"Owner TCO breakdown, assumptions {escape(version)}"
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}</style></head><body>"
        f"<h1>{title}</h1>{svg(result)}{_table(result)}</body></html>\n"
    )


def svg(result: FleetTco) -> str:
    """A stacked bar per GPU model: one segment per line, in :data:`LINE_LABELS` order."""
    models = list(dict.fromkeys(r.model for r in result.rows))
    stacks = {m: [line.per_gpu_hour.amount for line in result.only(model=m).lines] for m in models}
    top = max((sum(s, Decimal(0)) for s in stacks.values()), default=Decimal(1)) or Decimal(1)
    scale = (HEIGHT - BOTTOM - TOP) / float(top)
    step = (WIDTH - LEFT) / max(len(models), 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT + 24 * 4}' role='img' "
        f"aria-label='TCO per GPU-hour by line and GPU model'>",
        f"<text x='4' y='12' font-size='11'>{escape(result.currency)} per GPU-hour</text>",
    ]
    for i, m in enumerate(models):
        parts.extend(_bar(m, stacks[m], LEFT + i * step + step * 0.2, step * 0.6, scale))
    parts.extend(_legend())
    parts.append("</svg>")
    return "".join(parts)


def _bar(model: str, amounts: list[Decimal], x: float, width: float, scale: float) -> list[str]:
    y = float(HEIGHT - BOTTOM)
    out = []
    for colour, label, amount in zip(COLOURS, LINE_LABELS.values(), amounts, strict=True):
        h = float(amount) * scale
        y -= h
        out.append(
            f"<rect x='{x:.1f}' y='{y:.1f}' width='{width:.1f}' height='{h:.1f}' fill='{colour}'>"
            f"<title>{escape(model)} {escape(label)}: {amount}</title></rect>"
        )
    total = sum(amounts, Decimal(0))
    out.append(f"<text x='{x + width / 2:.1f}' y='{y - 4:.1f}' font-size='12' text-anchor='middle'>{total:.2f}</text>")
    out.append(
        f"<text x='{x + width / 2:.1f}' y='{HEIGHT - BOTTOM + 16}' font-size='12' "
        f"text-anchor='middle'>{escape(model)}</text>"
    )
    return out


def _legend() -> list[str]:
    out = []
    for i, (colour, label) in enumerate(zip(COLOURS, LINE_LABELS.values(), strict=True)):
        x, y = 8 + (i % 3) * 210, HEIGHT + 8 + (i // 3) * 22
        out.append(f"<rect x='{x}' y='{y}' width='12' height='12' fill='{colour}'/>")
        out.append(f"<text x='{x + 18}' y='{y + 11}' font-size='12'>{escape(label)}</text>")
    return out


def _table(result: FleetTco) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in ("site", "model", "GPUs", "per GPU-hour", "per MW-year"))
    rows = "".join(
        f"<tr><td>{escape(r.site)}</td><td>{escape(r.model)}</td><td>{r.gpus:,}</td>"
        f"<td>{r.tco.per_gpu_hour.amount}</td><td>{r.tco.per_mw_year.amount:,}</td></tr>"
        for r in result.rows
    )
    return f"<table><caption>{escape(result.currency)}</caption><tr>{head}</tr>{rows}</table>"
