"""Predicted vs measured latency as a self-contained HTML page (inline SVG, no script):
one log-log scatter for TTFT and one for TPOT, with the y = x line and +-25% bands."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PANELS = (("TTFT", "silicon_ttft_ms", "predicted_ttft_ms"), ("TPOT", "silicon_tpot_ms", "predicted_tpot_ms"))
SIZE = 360  # px, square plot area
PAD = 48


def scatter_html(rows: Sequence[Mapping[str, str]], title: str = "") -> str:
    """The page; a panel without measured values says so instead of plotting."""
    panels = "".join(_panel(name, rows, measured, predicted) for name, measured, predicted in PANELS)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Predicted vs measured latency {escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1rem}figure{display:inline-block;margin:0 1rem}"
        "text{font-size:11px}</style></head><body>"
        f"<h1>Predicted vs measured latency: {escape(title)}</h1>{panels}</body></html>\n"
    )


def points(rows: Sequence[Mapping[str, str]], measured: str, predicted: str) -> list[tuple[float, float]]:
    """(measured, predicted) pairs where both are positive numbers."""
    out = []
    for row in rows:
        m, p = _num(row.get(measured)), _num(row.get(predicted))
        if m is not None and p is not None and m > 0 and p > 0:
            out.append((m, p))
    return out


def _panel(name: str, rows: Sequence[Mapping[str, str]], measured: str, predicted: str) -> str:
    pts = points(rows, measured, predicted)
    if not pts:
        return f"<figure><figcaption>{name}: no rows with measured {measured}</figcaption></figure>"
    lo = math.floor(math.log10(min(min(p) for p in pts)))
    hi = math.ceil(math.log10(max(max(p) for p in pts)))
    hi = max(hi, lo + 1)

    def xy(v: float) -> float:
        return PAD + (math.log10(v) - lo) / (hi - lo) * SIZE

    total = SIZE + 2 * PAD
    parts = [f"<svg width='{total}' height='{total}' role='img' aria-label='{name} predicted vs measured'>"]
    parts.append(f"<rect x='{PAD}' y='{PAD}' width='{SIZE}' height='{SIZE}' fill='none' stroke='#888'/>")
    for decade in range(lo, hi + 1):
        at = xy(10.0**decade)
        label = f"{10.0**decade:g}"
        parts.append(f"<text x='{at:.1f}' y='{total - PAD + 14}' text-anchor='middle'>{label}</text>")
        parts.append(f"<text x='{PAD - 4}' y='{total - at:.1f}' text-anchor='end'>{label}</text>")
    a, b = 10.0**lo, 10.0**hi
    for factor, style in ((1.0, "#333"), (1.25, "#bbb"), (0.75, "#bbb")):
        parts.append(
            f"<line x1='{xy(a):.1f}' y1='{total - xy(a * factor):.1f}' x2='{xy(b):.1f}' "
            f"y2='{total - xy(b * factor):.1f}' stroke='{style}'/>"
        )
    for m, p in pts:
        parts.append(f"<circle cx='{xy(m):.1f}' cy='{total - xy(p):.1f}' r='2' fill='#1f6feb' fill-opacity='0.5'/>")
    parts.append(f"<text x='{total / 2}' y='{total - 8}' text-anchor='middle'>measured {name} (ms)</text>")
    parts.append(
        f"<text x='12' y='{total / 2}' transform='rotate(-90 12 {total / 2})' text-anchor='middle'>"
        f"predicted {name} (ms)</text></svg>"
    )
    caption = f"{name}: {len(pts)} rows; line y = x, grey +-25%"
    return f"<figure>{''.join(parts)}<figcaption>{caption}</figcaption></figure>"


def _num(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
