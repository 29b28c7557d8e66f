"""A keep-vs-lease study as one self-contained HTML page (inline SVG, no script): the
frontier (the internal work's mean delay, JCT less run time, against the lease's NPV, a point per
fraction leased), the recommendation, and the table per fraction. The chart and the table
are ``neocloud.web.study_charts``'s, the dashboard's ``/studies/{id}`` too."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from neocloud.services.study_documents import sold_text
from neocloud.web.study_charts import frontier_svg, keep_table


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
        frontier_svg(options, doc["max_delay_hours"], doc["currency"]),
        keep_table(options, doc["currency"]),
        "</body></html>\n",
    ]
    return "".join(parts)
